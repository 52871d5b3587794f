package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"docplat/accounts"
	"docplat/blob"
	"docplat/docs"
	"docplat/server"
	"docplat/sqlstore"
	"docplat/web"
)

// app is docplat wired together: the one place that knows every concrete type.
type app struct {
	cfg      config
	log      *slog.Logger
	db       *sqlstore.DB
	blobs    *blob.Store
	accounts *accounts.Service
	docs     *docs.Service
	server   *server.Server
}

// openStore opens the database and the blob store, migrating when asked
// (always in embedded mode) and refusing to run on a schema that is behind.
func openStore(ctx context.Context, cfg config, log *slog.Logger) (*sqlstore.DB, *blob.Store, error) {
	db, err := sqlstore.Open(ctx, sqlstore.Config{MySQLDSN: cfg.MySQLDSN, DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	if db.Embedded() {
		log.Info("embedded mode: SQLite database and blob store in the data directory; set DOCPLAT_MYSQL_DSN to use MariaDB/MySQL",
			"data_dir", cfg.DataDir)
	} else {
		log.Info("database: MariaDB/MySQL", "data_dir", cfg.DataDir)
	}
	if cfg.Migrate || db.Embedded() {
		applied, err := db.Migrate(ctx)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		if len(applied) > 0 {
			log.Info("migrations applied", "versions", applied)
		}
	} else if pending, err := db.Pending(ctx); err != nil || pending {
		db.Close()
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("the database schema is behind this binary: run 'docplat migrate' or start with --migrate")
	}
	blobs, err := blob.Open(cfg.DataDir)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, blobs, nil
}

func build(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	db, blobs, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, db: db, blobs: blobs}
	a.accounts = accounts.NewService(db.Accounts(), accounts.Options{SessionTTL: cfg.SessionTTL})
	a.docs = docs.NewService(db.Documents(), blobs, docs.Options{MaxUploadBytes: cfg.MaxUploadBytes, BlobGrace: cfg.BlobGrace, Logger: log})

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.server = server.New(server.Deps{
		Accounts: a.accounts,
		Docs:     a.docs,
		Checks:   map[string]server.Check{"database": db.Ping},
		UI:       web.Handler(),
		Logger:   log,
		Registry: reg,
	}, server.Options{SecureCookies: cfg.SecureCookies, TrustedProxies: cfg.trustedProxies()})
	return a, nil
}

func (a *app) Close() error { return a.db.Close() }
