package sqlstore_test

import (
	"errors"
	"log/slog"
	"testing"

	"docplat/internal/testdb"
	"docplat/sqlstore"
)

// TestOpenReadyMigratesWhenAskedAndRefusesASchemaBehind: on a fresh
// MariaDB database, OpenReady without migrating refuses with
// ErrSchemaBehind; with migrating it brings the schema up, after which
// opening without migrating succeeds. Embedded mode always migrates.
func TestOpenReadyMigratesWhenAskedAndRefusesASchemaBehind(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	cfg := sqlstore.Config{MySQLDSN: testdb.DSNFor(t, testdb.MariaDB), DataDir: t.TempDir(), Logger: quiet}
	if db, err := sqlstore.OpenReady(t.Context(), cfg, false); !errors.Is(err, sqlstore.ErrSchemaBehind) {
		if db != nil {
			db.Close()
		}
		t.Fatalf("fresh database without migrating: %v, want ErrSchemaBehind", err)
	}
	for _, migrate := range []bool{true, false} {
		db, err := sqlstore.OpenReady(t.Context(), cfg, migrate)
		if err != nil {
			t.Fatalf("migrate=%v: %v", migrate, err)
		}
		if pending, err := db.Pending(t.Context()); err != nil || pending {
			t.Fatalf("migrate=%v: pending=%v err=%v", migrate, pending, err)
		}
		db.Close()
	}
	embedded := sqlstore.Config{DataDir: t.TempDir(), Logger: quiet}
	db, err := sqlstore.OpenReady(t.Context(), embedded, false)
	if err != nil {
		t.Fatalf("embedded without migrating: %v", err)
	}
	defer db.Close()
	if pending, err := db.Pending(t.Context()); err != nil || pending {
		t.Fatalf("embedded: pending=%v err=%v", pending, err)
	}
}
