package sqlstore

import (
	"context"
	"errors"
	"log/slog"
)

// ErrSchemaBehind: the database's schema is older than this binary and
// migrating was not asked for.
var ErrSchemaBehind = errors.New("the database schema is behind this binary: run 'docplat migrate' or start with --migrate")

// OpenReady opens the database with a schema this binary can run on: it
// applies pending migrations when migrate is set (always in embedded mode,
// where one process owns the file), and otherwise refuses a schema that is
// behind with ErrSchemaBehind.
func OpenReady(ctx context.Context, cfg Config, migrate bool) (*DB, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	db, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if db.Embedded() {
		log.Info("embedded mode: SQLite database and blob store in the data directory; set DOCPLAT_MYSQL_DSN to use MariaDB/MySQL",
			"data_dir", cfg.DataDir)
	} else {
		log.Info("database: MariaDB/MySQL", "data_dir", cfg.DataDir)
	}
	if migrate || db.Embedded() {
		applied, err := db.Migrate(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		if len(applied) > 0 {
			log.Info("migrations applied", "versions", applied)
		}
	} else if pending, err := db.Pending(ctx); err != nil || pending {
		db.Close()
		if err != nil {
			return nil, err
		}
		return nil, ErrSchemaBehind
	}
	// After the migrations: the replicas' heartbeat has its table.
	if err := db.startReplicas(ctx, cfg); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
