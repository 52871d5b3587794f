package sqlstore_test

import (
	"sync"
	"testing"

	"docplat/internal/testdb"
	"docplat/sqlstore"
)

// TestMySQLPoolIsBounded: a process never opens more MySQL connections than
// MaxOpenConns (32 by default), however many requests run at once; the rest
// wait for a connection instead of failing with "Too many connections".
func TestMySQLPoolIsBounded(t *testing.T) {
	dsn := testdb.DSNFor(t, testdb.MariaDB)
	cases := []struct {
		name string
		max  int
		want int
	}{{"default", 0, 32}, {"configured", 4, 4}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sqlstore.Open(t.Context(), sqlstore.Config{MySQLDSN: dsn, DataDir: t.TempDir(), MaxOpenConns: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var wg sync.WaitGroup
			for range 3 * tc.want {
				wg.Go(func() {
					if _, err := db.SQL().ExecContext(t.Context(), "SELECT SLEEP(0.05)"); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			st := db.SQL().Stats()
			if st.MaxOpenConnections != tc.want || st.OpenConnections > tc.want || st.WaitCount == 0 {
				t.Fatalf("pool stats %+v, want at most %d open and some waits", st, tc.want)
			}
		})
	}
}
