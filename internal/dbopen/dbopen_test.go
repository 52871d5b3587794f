package dbopen

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"docplat/depfail"
	"docplat/internal/testdb"
	"docplat/migrations"
)

func TestNormalizeMySQLDSN(t *testing.T) {
	cases := []struct {
		name, dsn            string
		timeout, read, write time.Duration
	}{
		{"defaults added", "u:p@tcp(127.0.0.1:3306)/db", 5 * time.Second, 30 * time.Second, 30 * time.Second},
		{"timeouts the DSN sets are kept", "u:p@tcp(127.0.0.1:3306)/db?timeout=2s&readTimeout=7s&writeTimeout=9s", 2 * time.Second, 7 * time.Second, 9 * time.Second},
		{"each timeout defaults on its own", "u:p@tcp(127.0.0.1:3306)/db?readTimeout=7s", 5 * time.Second, 7 * time.Second, 30 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := NormalizeMySQLDSN(tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			c, err := mysqldriver.ParseDSN(out)
			if err != nil {
				t.Fatal(err)
			}
			if !c.ParseTime || !c.ClientFoundRows || !c.InterpolateParams || c.Loc != time.UTC || !strings.Contains(out, "charset=utf8mb4") || c.Collation != "utf8mb4_unicode_ci" {
				t.Fatalf("normalized DSN %q lacks a setting docplat relies on: %+v", out, c)
			}
			if c.Timeout != tc.timeout || c.ReadTimeout != tc.read || c.WriteTimeout != tc.write {
				t.Fatalf("timeouts %v/%v/%v, want %v/%v/%v", c.Timeout, c.ReadTimeout, c.WriteTimeout, tc.timeout, tc.read, tc.write)
			}
		})
	}
	if _, err := NormalizeMySQLDSN("not a dsn"); err == nil {
		t.Fatal("a malformed DSN was accepted")
	}
}

func TestOpenSQLiteCreatesFolderAndBoundsPool(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.db")
	db, err := Open(t.Context(), Config{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.SQL.Close()
	if db.Dialect != migrations.SQLite {
		t.Fatalf("dialect %q, want sqlite", db.Dialect)
	}
	if n := db.SQL.Stats().MaxOpenConnections; n != sqliteMaxOpenConns {
		t.Fatalf("max open connections %d, want %d", n, sqliteMaxOpenConns)
	}
	var fk int
	if err := db.SQL.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d (%v), want 1", fk, err)
	}
}

func TestOpenUnreachableMySQLIsUnavailable(t *testing.T) {
	_, err := Open(t.Context(), Config{What: "stats database", MySQLDSN: "u:p@tcp(127.0.0.1:1)/db?timeout=1s"})
	if !errors.Is(err, depfail.ErrUnavailable) {
		t.Fatalf("err = %v, want depfail.ErrUnavailable (503, not 500)", err)
	}
}

func TestOpenBadDSNNamesTheSetting(t *testing.T) {
	_, err := Open(t.Context(), Config{DSNSetting: "DOCPLAT_MYSQL_DSN", MySQLDSN: "not a dsn"})
	if err == nil || !strings.HasPrefix(err.Error(), "DOCPLAT_MYSQL_DSN: ") {
		t.Fatalf("err = %v, want it to name DOCPLAT_MYSQL_DSN", err)
	}
}

func TestOpenMariaDBSessionSettings(t *testing.T) {
	db, err := Open(t.Context(), Config{MySQLDSN: testdb.DSNFor(t, testdb.MariaDB), MaxOpenConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer db.SQL.Close()
	if n := db.SQL.Stats().MaxOpenConnections; n != 3 {
		t.Fatalf("max open connections %d, want 3", n)
	}
	var collation string
	if err := db.SQL.QueryRow("SELECT @@collation_connection").Scan(&collation); err != nil {
		t.Fatal(err)
	}
	if collation != "utf8mb4_unicode_ci" {
		t.Fatalf("collation_connection %q, want utf8mb4_unicode_ci", collation)
	}
}
