// Package stats is docplat's statistics service: per-department usage and
// quota (a participant in the three-phase commit that spans documents and
// stats), per-document access counters with hourly aggregates fed in
// batches from the access stream, and the reads behind /api/v1/stats. It
// owns its own database and meets the document service only through txn
// and events: it never imports docs.
package stats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// ParticipantName is the stats service's name in three-phase-commit branches.
const ParticipantName = "stats"

// Config selects the stats database: a DSN (MariaDB/MySQL), or stats.db
// in DataDir (embedded).
type Config struct {
	MySQLDSN string
	DataDir  string
	Logger   *slog.Logger
	// MaxOpenConns bounds the MySQL connections (default 32; see sqlstore.Config).
	MaxOpenConns int
}

// Service owns the stats database.
type Service struct {
	db    *gorm.DB
	mysql bool
	log   *slog.Logger
	now   func() time.Time
}

// Open connects to the stats database and migrates it.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	// TranslateError lets depfail.Dialector mark an unreachable database
	// as depfail.ErrUnavailable (503 with Retry-After, not 500).
	gcfg := &gorm.Config{Logger: logger.Discard, TranslateError: true, NowFunc: func() time.Time { return time.Now().UTC() }}
	s := &Service{log: cfg.Logger, now: func() time.Time { return time.Now().UTC() }}
	if s.log == nil {
		s.log = slog.Default()
	}
	var err error
	dialect := migrations.SQLite
	if cfg.MySQLDSN != "" {
		c, perr := mysqldriver.ParseDSN(cfg.MySQLDSN)
		if perr != nil {
			return nil, fmt.Errorf("stats DSN: %w", perr)
		}
		c.ParseTime, c.Loc, c.ClientFoundRows = true, time.UTC, true
		c.InterpolateParams = true // one round trip per statement, as sqlstore
		if c.Params == nil {
			c.Params = map[string]string{}
		}
		c.Params["charset"] = "utf8mb4"
		s.db, err = gorm.Open(depfail.Dialector(mysql.Open(c.FormatDSN())), gcfg)
		s.mysql, dialect = true, migrations.MySQL
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, err
		}
		dsn := "file:" + filepath.Join(cfg.DataDir, "stats.db") +
			"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		s.db, err = gorm.Open(depfail.Dialector(sqlite.Open(dsn)), gcfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open stats database: %w", err)
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	if s.mysql {
		n := cfg.MaxOpenConns
		if n <= 0 {
			n = 32
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	}
	if _, err := migrations.Up(ctx, sqlDB, dialect, migrations.Stats); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// DB is the stats database (for the participant engine).
func (s *Service) DB() *gorm.DB { return s.db }

// MySQL reports whether the database is MariaDB/MySQL.
func (s *Service) MySQL() bool { return s.mysql }

// Ping checks the database.
func (s *Service) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the database.
func (s *Service) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// ErrNotFound: no such entry.
var ErrNotFound = errors.New("stats: not found")
