// Package sqlstore implements the accounts and docs stores on a SQL
// database through gorm: MariaDB/MySQL in production, SQLite (pure Go) in
// the embedded mode. Everything above it runs the same code on both; the
// differences between the two live in dialect.go and the search files.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"docplat/depfail"
	"docplat/migrations"
)

// DB is an open docplat database.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect dialect
	name    migrations.Dialect

	// FailAfterPublish, when set, fails a content write after its blob is
	// published and before its transaction commits: a failure-injection hook
	// for crash-safety tests, nil in production.
	FailAfterPublish func() error

	searchFallbacks atomic.Int64 // see SearchFallbacks
	sqlSearchOnly   bool         // tests and benchmarks: the SQL form answers every search
	searchStmts     searchStatements
}

// Config selects the database: DSN set means MySQL/MariaDB, otherwise an
// SQLite file under DataDir.
type Config struct {
	MySQLDSN string
	DataDir  string
	Logger   *slog.Logger
	// MaxOpenConns bounds this process's MySQL connections (default 32):
	// every instance's pool, and the stats service's, must fit the
	// server's max_connections together; a request waits for a free
	// connection rather than fail with "Too many connections".
	MaxOpenConns int
}

// Open connects to the database (it does not migrate: see Migrate).
func Open(ctx context.Context, cfg Config) (*DB, error) {
	// Errors pass through depfail.Dialector: a database that cannot be
	// reached or is overloaded is depfail.ErrUnavailable everywhere above.
	gcfg := &gorm.Config{
		Logger:         logger.Discard,
		TranslateError: true,
		NowFunc:        func() time.Time { return time.Now().UTC() },
		PrepareStmt:    false,
	}
	var (
		g   *gorm.DB
		err error
		db  = &DB{}
	)
	if cfg.MySQLDSN != "" {
		dsn, derr := normalizeMySQLDSN(cfg.MySQLDSN)
		if derr != nil {
			return nil, derr
		}
		g, err = gorm.Open(depfail.Dialector(mysql.Open(dsn)), gcfg)
		db.dialect, db.name = mysqlDialect{}, migrations.MySQL
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, err
		}
		g, err = gorm.Open(depfail.Dialector(sqlite.Open(SQLiteDSN(filepath.Join(cfg.DataDir, "docplat.db")))), gcfg)
		db.dialect, db.name = sqliteDialect{}, migrations.SQLite
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.gorm = g
	if db.sql, err = g.DB(); err != nil {
		return nil, err
	}
	if db.name == migrations.SQLite {
		// One writer at a time is SQLite's model; readers run beside it (WAL).
		db.sql.SetMaxOpenConns(8)
	} else {
		n := cfg.MaxOpenConns
		if n <= 0 {
			n = 32
		}
		db.sql.SetMaxOpenConns(n)
		db.sql.SetMaxIdleConns(n)
		db.sql.SetConnMaxLifetime(30 * time.Minute)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.sql.PingContext(pctx); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("connect to database: %w", depfail.Classify(err))
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

// normalizeMySQLDSN adds the settings docplat relies on: parsed UTC times and utf8mb4.
func normalizeMySQLDSN(dsn string) (string, error) {
	c, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("DOCPLAT_MYSQL_DSN: %w", err)
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
		c.WriteTimeout = 30 * time.Second
	}
	return c.FormatDSN(), nil
}

// Dialect is the SQL dialect of the database.
func (db *DB) Dialect() migrations.Dialect { return db.name }

// Embedded reports whether this is the embedded SQLite database.
func (db *DB) Embedded() bool { return db.name == migrations.SQLite }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// Close closes the connection pool.
func (db *DB) Close() error { return db.sql.Close() }

// SQL exposes the pool for migrations and tests.
func (db *DB) SQL() *sql.DB { return db.sql }

// Migrate applies pending migrations. On MariaDB it first checks that the
// Mroonga engine the search index needs is installed.
func (db *DB) Migrate(ctx context.Context) ([]int64, error) {
	if db.name == migrations.MySQL {
		var n int64
		if err := db.gorm.WithContext(ctx).Raw("SELECT COUNT(*) FROM information_schema.ENGINES WHERE ENGINE = 'Mroonga' AND SUPPORT IN ('YES','DEFAULT')").Scan(&n).Error; err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errors.New("the MariaDB server lacks the Mroonga storage engine that docplat's full-text search needs: " +
				"install it (Debian: apt-get install mariadb-plugin-mroonga && mariadb -uroot < /usr/share/mysql/mroonga/install.sql) and retry")
		}
	}
	applied, err := migrations.Up(ctx, db.sql, db.name)
	if err == nil && db.name == migrations.MySQL {
		err = backfillSearchFilters(ctx, db.gorm)
	}
	return applied, err
}

// Pending reports whether the schema is behind the binary.
func (db *DB) Pending(ctx context.Context) (bool, error) {
	p, _, _, err := migrations.Pending(ctx, db.sql, db.name)
	return p, err
}

func isDuplicate(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) && me.Number == 1062 {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func isForeignKey(err error) bool {
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return true
	}
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) && (me.Number == 1451 || me.Number == 1452) {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}
