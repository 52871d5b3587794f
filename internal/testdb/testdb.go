// Package testdb gives integration tests a real database of their own: a
// fresh MariaDB database per test (dropped afterwards), or a fresh SQLite
// directory for the embedded mode. Tests never mock the database.
package testdb

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"

	mysqldriver "github.com/go-sql-driver/mysql"
)

// Backend names a database the same test runs against.
type Backend string

const (
	SQLite  Backend = "sqlite"
	MariaDB Backend = "mariadb"
)

// Backends lists the backends every integration test covers.
var Backends = []Backend{SQLite, MariaDB}

// ServerDSN is the MariaDB server tests use: DOCPLAT_TEST_MYSQL_DSN, or root
// without a password on 127.0.0.1:3306.
func ServerDSN() string {
	if v := os.Getenv("DOCPLAT_TEST_MYSQL_DSN"); v != "" {
		return v
	}
	return "root@tcp(127.0.0.1:3306)/"
}

// MySQLDSN creates a fresh database and returns a DSN for it; the database
// is dropped when the test ends. A missing server fails the test: set
// DOCPLAT_TEST_SKIP_MYSQL=1 to skip MariaDB runs deliberately.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	if os.Getenv("DOCPLAT_TEST_SKIP_MYSQL") == "1" {
		t.Skip("DOCPLAT_TEST_SKIP_MYSQL=1")
	}
	cfg, err := mysqldriver.ParseDSN(ServerDSN())
	if err != nil {
		t.Fatalf("DOCPLAT_TEST_MYSQL_DSN: %v", err)
	}
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "docplat_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("MariaDB is needed for this test (start it, or set DOCPLAT_TEST_SKIP_MYSQL=1): %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP DATABASE IF EXISTS " + name)
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

// DSNFor returns the MySQL DSN for b ("" for SQLite, which lives in the data dir).
func DSNFor(t testing.TB, b Backend) string {
	if b == MariaDB {
		return MySQLDSN(t)
	}
	return ""
}
