// Package sqlstore implements the accounts and docs stores on a SQL
// database through gorm: MariaDB/MySQL in production, SQLite (pure Go) in
// the embedded mode. Everything above it runs the same code on both; the
// differences between the two live in dialect.go and the search files.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"docplat/internal/dbopen"
	"docplat/migrations"
)

// DB is an open docplat database.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect dialect
	name    migrations.Dialect

	searchFallbacks atomic.Int64 // see SearchFallbacks
	sqlSearchOnly   bool         // tests and benchmarks: the SQL form answers every search
	searchStmts     searchStatements

	replicas *replicaSet // nil: every read on this database (see replicas.go)
}

// Config selects the database: DSN set means MySQL/MariaDB, otherwise an
// SQLite file under DataDir.
type Config struct {
	MySQLDSN string
	DataDir  string
	Logger   *slog.Logger
	// MaxOpenConns bounds this process's MySQL connections (default 32;
	// see dbopen.Config), to the primary and to each replica.
	MaxOpenConns int
	// ReplicaDSNs are MariaDB replicas of MySQLDSN's server (same
	// database name) that searches and document cache misses may read
	// from while they lag at most ReplicaMaxLag (default 2s); see
	// replicas.go.
	ReplicaDSNs   []string
	ReplicaMaxLag time.Duration
	// Registerer receives the replicas' metrics (nil: none).
	Registerer prometheus.Registerer
}

// Open connects to the database (it does not migrate: see Migrate).
func Open(ctx context.Context, cfg Config) (*DB, error) {
	o, err := dbopen.Open(ctx, dbopen.Config{What: "database", DSNSetting: "DOCPLAT_MYSQL_DSN", MySQLDSN: cfg.MySQLDSN,
		SQLitePath: filepath.Join(cfg.DataDir, "docplat.db"), MaxOpenConns: cfg.MaxOpenConns})
	if err != nil {
		return nil, err
	}
	db := &DB{gorm: o.Gorm, sql: o.SQL, name: o.Dialect, dialect: sqliteDialect{}}
	if o.Dialect == migrations.MySQL {
		db.dialect = mysqlDialect{}
	}
	return db, nil
}

// Dialect is the SQL dialect of the database.
func (db *DB) Dialect() migrations.Dialect { return db.name }

// Embedded reports whether this is the embedded SQLite database.
func (db *DB) Embedded() bool { return db.name == migrations.SQLite }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// Close stops the replicas' monitor and closes the connection pools.
func (db *DB) Close() error {
	if db.replicas != nil {
		db.replicas.close()
	}
	return db.sql.Close()
}

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
