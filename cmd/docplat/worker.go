package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"docplat/internal/buildinfo"
)

// workerCmd is `docplat worker`: job workers (text extraction) as a
// process of their own, members of the workers' consumer group on the
// deployment's Kafka brokers, so that more of them share the work. A
// worker reads and writes what serve does (the document database, the
// blob directory, the cache and lock nodes it fences its writes with, the
// nginx hot tier it purges), so it takes serve's configuration. It serves
// /metrics and /healthz on --addr, nothing else: a deployment whose serve
// instances run no workers (--jobs-in-process=false) learns the queue's
// depth and the jobs' failures only from here.
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
	// Listen before building, so that a taken port fails the start
	// (systemd restarts it) instead of leaving a worker nobody can watch.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("worker metrics listener (--addr): %w", err)
	}
	a, err := build(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	if a.workers == nil { // --jobs-in-process=false
		if err := a.wireWorkers(true); err != nil {
			ln.Close()
			return err
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("worker metrics listener", "addr", cfg.Addr, "err", err)
		}
	}()
	defer srv.Close()
	a.logWorkers("job workers: a worker process")
	log.Info("worker metrics listening", "addr", ln.Addr().String())
	var wg sync.WaitGroup
	// The cache follows invalidations, so that the workers' reads are
	// current; the workers stop first (ctx), leaving the group.
	wg.Go(func() { a.cache.Run(ctx) })
	wg.Go(func() { a.workers.Run(ctx) })
	wg.Wait()
	log.Info("docplat worker stopped")
	return nil
}
