package sqlstore_test

import (
	"testing"

	"docplat/internal/testdb"
)

func TestMigrateAppliesOnceThenNothingIsPending(t *testing.T) {
	t.Parallel()
	for _, b := range testdb.Backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := openEnv(t, b)

			pending, err := e.db.Pending(e.ctx)
			if err != nil {
				t.Fatalf("Pending on a fresh database: %v", err)
			}
			if !pending {
				t.Fatal("Pending on a fresh database = false, want true")
			}

			first, err := e.db.Migrate(e.ctx)
			if err != nil {
				t.Fatalf("first Migrate: %v", err)
			}
			if len(first) == 0 {
				t.Fatal("first Migrate applied nothing on a fresh database")
			}

			second, err := e.db.Migrate(e.ctx)
			if err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			if len(second) != 0 {
				t.Fatalf("second Migrate applied %v, want nothing", second)
			}

			pending, err = e.db.Pending(e.ctx)
			if err != nil {
				t.Fatalf("Pending after Migrate: %v", err)
			}
			if pending {
				t.Fatal("Pending after Migrate = true, want false")
			}
		})
	}
}
