package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"docplat/stats"
	"docplat/txn"
)

// statsServer is the stats service as its own process: its database, its
// three-phase-commit participant and the internal API the document service
// calls.
type statsServer struct {
	svc         *stats.Service
	branch      *txn.ParticipantEngine
	coordinator *txn.HTTPClient
	handler     http.Handler
	stream      stats.StreamConfig
}

// run runs the participant's timeouts and the access counters until ctx ends.
func (s *statsServer) run(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() { s.branch.Run(ctx, 0) })
	wg.Go(func() { s.svc.ConsumeStream(ctx, s.stream) })
	return &wg
}

func buildStatsServer(ctx context.Context, cfg config, log *slog.Logger) (*statsServer, error) {
	if cfg.InternalSecret == "" {
		return nil, errors.New("docplat stats needs --internal-secret (DOCPLAT_INTERNAL_SECRET), shared with the document service")
	}
	if len(cfg.kafkaBrokers()) == 0 {
		return nil, errors.New("docplat stats needs --kafka-brokers (DOCPLAT_KAFKA_BROKERS): it counts the access topic the document service publishes to")
	}
	svc, err := stats.Open(ctx, stats.Config{MySQLDSN: cfg.StatsMySQLDSN, DataDir: cfg.DataDir, Logger: log, MaxOpenConns: int(cfg.DBMaxConns)})
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &statsServer{svc: svc, coordinator: &txn.HTTPClient{Base: cfg.CoordinatorURL, Secret: cfg.InternalSecret},
		stream: stats.StreamConfig{Brokers: cfg.kafkaBrokers(), Topic: cfg.KafkaTopic, SessionTimeout: cfg.KafkaSessionTimeout,
			FlushInterval: cfg.StatsFlushInterval, Registerer: reg, Logger: log}}
	s.branch = txn.NewParticipant(txn.ParticipantOptions{Name: stats.ParticipantName, DB: svc.DB(), Handler: svc.Usage(),
		ForUpdate: svc.MySQL(), Coordinator: s.coordinator, Peers: s.coordinator.Participant,
		Logger: log, Metrics: txn.NewMetrics(reg), ReadyTimeout: cfg.TxnTimeout, PrecommitTimeout: cfg.TxnTimeout})
	mux := http.NewServeMux()
	mux.Handle("/internal/txn/", txn.HTTPHandler(map[string]txn.Participant{stats.ParticipantName: s.branch}, nil, cfg.InternalSecret))
	mux.Handle("/internal/stats/", svc.InternalHandler(cfg.InternalSecret))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := svc.Ping(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable","failing":["database"]}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	s.handler = mux
	return s, nil
}

// statsCmd runs `docplat stats`.
func statsCmd(ctx context.Context, args []string, env envSource) error {
	var cfg config
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	cfg.register(fs, env)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	if cfg.CoordinatorURL == "" {
		return errors.New("docplat stats needs --coordinator-url (DOCPLAT_COORDINATOR_URL): the document service's base URL")
	}
	log := cfg.logger().With("service", "stats")
	s, err := buildStatsServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.svc.Close()
	ln, err := net.Listen("tcp", cfg.StatsAddr)
	if err != nil {
		return err
	}
	if s.svc.MySQL() {
		log.Info("stats service starting", "addr", ln.Addr().String(), "database", "MariaDB/MySQL")
	} else {
		log.Info("stats service starting (embedded SQLite database stats.db)", "addr", ln.Addr().String(), "data_dir", cfg.DataDir)
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	wg := s.run(bg)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		err = srv.Shutdown(sctx)
		cancel()
	}
	stop()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
