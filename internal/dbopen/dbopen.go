// Package dbopen opens docplat's SQL databases, the document store's and
// the stats service's alike: MariaDB/MySQL when a DSN is given, otherwise
// an SQLite file (pure Go). It settles what every service relies on - the
// DSN's settings (UTC times, utf8mb4 and its collation, timeouts, matched
// rows), the pool's size, errors classified by depfail and a first ping -
// and nothing about any schema: migrating is the caller's.
package dbopen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"docplat/depfail"
	"docplat/migrations"
)

// Config selects a database.
type Config struct {
	// What names the database in errors ("database", "stats database").
	What string
	// DSNSetting names the DSN's setting in errors (default What+" DSN").
	DSNSetting string
	// MySQLDSN set means MariaDB/MySQL.
	MySQLDSN string
	// SQLitePath is the SQLite file used when MySQLDSN is empty; its
	// folder is created.
	SQLitePath string
	// MaxOpenConns bounds this process's MySQL connections (default 32):
	// every instance's pools must fit the server's max_connections
	// together; a request waits for a free connection rather than fail
	// with "Too many connections".
	MaxOpenConns int
}

// DB is an open database.
type DB struct {
	Gorm    *gorm.DB
	SQL     *sql.DB
	Dialect migrations.Dialect
}

// sqliteMaxOpenConns: one writer at a time is SQLite's model; readers run
// beside it (WAL).
const sqliteMaxOpenConns = 8

// Open connects and pings (10 s at most). Errors pass through
// depfail.Dialector: a database that cannot be reached or is overloaded is
// depfail.ErrUnavailable everywhere above.
func Open(ctx context.Context, cfg Config) (DB, error) {
	if cfg.What == "" {
		cfg.What = "database"
	}
	if cfg.DSNSetting == "" {
		cfg.DSNSetting = cfg.What + " DSN"
	}
	gcfg := &gorm.Config{
		Logger:         logger.Discard,
		TranslateError: true,
		NowFunc:        func() time.Time { return time.Now().UTC() },
	}
	var (
		db  DB
		err error
	)
	if cfg.MySQLDSN != "" {
		dsn, derr := NormalizeMySQLDSN(cfg.MySQLDSN)
		if derr != nil {
			return DB{}, fmt.Errorf("%s: %w", cfg.DSNSetting, derr)
		}
		db.Gorm, err = gorm.Open(depfail.Dialector(mysql.Open(dsn)), gcfg)
		db.Dialect = migrations.MySQL
	} else {
		if cfg.SQLitePath == "" {
			return DB{}, fmt.Errorf("open %s: neither a MySQL DSN nor an SQLite path", cfg.What)
		}
		if err := os.MkdirAll(filepath.Dir(cfg.SQLitePath), 0o755); err != nil {
			return DB{}, err
		}
		db.Gorm, err = gorm.Open(depfail.Dialector(sqlite.Open(SQLiteDSN(cfg.SQLitePath))), gcfg)
		db.Dialect = migrations.SQLite
	}
	if err != nil {
		return DB{}, fmt.Errorf("open %s: %w", cfg.What, depfail.Classify(err))
	}
	if db.SQL, err = db.Gorm.DB(); err != nil {
		return DB{}, err
	}
	if db.Dialect == migrations.SQLite {
		db.SQL.SetMaxOpenConns(sqliteMaxOpenConns)
	} else {
		n := cfg.MaxOpenConns
		if n <= 0 {
			n = 32
		}
		db.SQL.SetMaxOpenConns(n)
		db.SQL.SetMaxIdleConns(n)
		db.SQL.SetConnMaxLifetime(30 * time.Minute)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.SQL.PingContext(pctx); err != nil {
		db.SQL.Close()
		return DB{}, fmt.Errorf("connect to %s: %w", cfg.What, depfail.Classify(err))
	}
	return db, nil
}

// SQLiteDSN is the connection string docplat uses for an SQLite file:
// foreign keys on, WAL, a busy timeout, and transactions that take the write
// lock at BEGIN (so two writers never deadlock upgrading a read lock).
func SQLiteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// NormalizeMySQLDSN adds the settings docplat relies on: parsed UTC times,
// utf8mb4 with its Unicode collation, matched (not changed) rows, and
// connect/read/write timeouts where the DSN sets none.
func NormalizeMySQLDSN(dsn string) (string, error) {
	if dsn == "" {
		return "", errors.New("empty DSN")
	}
	c, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		return "", err
	}
	c.ParseTime = true
	// Report matched rows, not changed rows, as SQLite does: an UPDATE that
	// changes nothing must not look like a missing row.
	c.ClientFoundRows = true
	// Send a statement with its arguments in one round trip (the driver
	// escapes them for utf8mb4) instead of prepare, execute and close:
	// three round trips and three server commands for every gorm query.
	c.InterpolateParams = true
	c.Loc = time.UTC
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	c.Params["charset"] = "utf8mb4"
	c.Collation = "utf8mb4_unicode_ci"
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 30 * time.Second
	}
	return c.FormatDSN(), nil
}
