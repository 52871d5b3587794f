package main

import (
	"context"
	"errors"
	"sync"

	"docplat/internal/buildinfo"
)

// workerCmd is `docplat worker`: job workers (text extraction) as a
// process of their own, members of the workers' consumer group on the
// deployment's Kafka brokers, so that more of them share the work. A
// worker reads and writes what serve does (the document database, the
// blob directory, the cache and lock nodes it fences its writes with, the
// nginx hot tier it purges), so it takes serve's configuration.
func workerCmd(ctx context.Context, args []string, env envSource) error {
	cfg, err := parseServe(args, env)
	if err != nil {
		return err
	}
	if len(cfg.Stream.Brokers) == 0 {
		return errors.New("worker needs --kafka-brokers (DOCPLAT_KAFKA_BROKERS): without them 'docplat serve' runs its workers itself")
	}
	if cfg.Store.DB.MySQLDSN == "" || !cfg.Redis.Shared() {
		return errors.New("worker needs --mysql-dsn and --redis-addr (or --redis-cluster-addrs) shared with the serve instances: an embedded database or cache is this process's alone")
	}
	if cfg.Jobs.Workers < 1 {
		return errors.New("worker needs --jobs-workers of at least 1")
	}
	log := cfg.Log.Logger().With("service", "worker")
	log.Info("docplat worker starting", "version", buildinfo.Version())
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.workers == nil { // --jobs-in-process=false
		if err := a.wireWorkers(true); err != nil {
			return err
		}
	}
	a.logWorkers("job workers: a worker process")
	var wg sync.WaitGroup
	// The cache follows invalidations, so that the workers' reads are
	// current; the workers stop first (ctx), leaving the group.
	wg.Go(func() { a.cache.Run(ctx) })
	wg.Go(func() { a.workers.Run(ctx) })
	wg.Wait()
	log.Info("docplat worker stopped")
	return nil
}
