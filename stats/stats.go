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
	"log/slog"
	"path/filepath"
	"time"

	"gorm.io/gorm"

	"docplat/internal/dbopen"
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
	// MaxOpenConns bounds the MySQL connections (default 32; see dbopen.Config).
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
	o, err := dbopen.Open(ctx, dbopen.Config{What: "stats database", MySQLDSN: cfg.MySQLDSN,
		SQLitePath: filepath.Join(cfg.DataDir, "stats.db"), MaxOpenConns: cfg.MaxOpenConns})
	if err != nil {
		return nil, err
	}
	s := &Service{db: o.Gorm, mysql: o.Dialect == migrations.MySQL, log: cfg.Logger, now: func() time.Time { return time.Now().UTC() }}
	if s.log == nil {
		s.log = slog.Default()
	}
	if _, err := migrations.Up(ctx, o.SQL, o.Dialect, migrations.Stats); err != nil {
		o.SQL.Close()
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
