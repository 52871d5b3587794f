package stats

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"docplat/internal/envflag"
	"docplat/internal/httpserve"
)

// ProcessConfig is the stats service run as its own process
// (`docplat stats`): its database, where it reads the access stream, its
// listener and the document service it answers to.
type ProcessConfig struct {
	DB              Config
	Stream          StreamConfig
	Addr            string
	CoordinatorURL  string
	InternalSecret  string
	TxnTimeout      time.Duration
	ShutdownTimeout time.Duration
}

// Bind declares the stats process's flags onto c.
func (c *ProcessConfig) Bind(b *envflag.Set) {
	b.String(&c.Addr, "stats-addr", ":8090", "listen address of 'docplat stats'")
	b.String(&c.DB.MySQLDSN, "stats-mysql-dsn", "", "the stats service's own MariaDB/MySQL database; empty: stats.db in the data directory")
	b.String(&c.DB.DataDir, "data-dir", "./data", "directory of the embedded stats.db")
	b.Int(&c.DB.MaxOpenConns, "db-max-conns", 32, "MySQL connections this process may open; every instance's and the stats service's together must stay under the server's max_connections")
	b.String(&c.InternalSecret, "internal-secret", "", "shared secret of the /internal/ endpoints between docplat services (required)")
	b.String(&c.CoordinatorURL, "coordinator-url", "", "base URL of the document service, asked when a transaction times out (required)")
	b.Duration(&c.TxnTimeout, "txn-timeout", 10*time.Second, "a transaction branch that hears nothing for this long is terminated by its participant")
	b.List(&c.Stream.Brokers, "kafka-brokers", "", "", "comma-separated Kafka brokers of the access stream, host:port (required)")
	b.String(&c.Stream.Topic, "kafka-topic", "docplat.access", "Kafka topic of the access events")
	c.Stream.Bind(b)
	b.Duration(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may finish at shutdown")
}

// Validate reports every problem at once, named by the flags of b (the
// set c was bound to): the process needs what serve may leave out.
func (c *ProcessConfig) Validate(b *envflag.Set) error {
	errs := []error{b.Options(&c.DB), b.Options(&c.Stream)}
	if c.InternalSecret == "" {
		errs = append(errs, errors.New("docplat stats needs --internal-secret (DOCPLAT_INTERNAL_SECRET), shared with the document service"))
	} else if len(c.InternalSecret) < 16 {
		errs = append(errs, errors.New("internal-secret must be at least 16 characters"))
	}
	if len(c.Stream.Brokers) == 0 {
		errs = append(errs, errors.New("docplat stats needs --kafka-brokers (DOCPLAT_KAFKA_BROKERS): it counts the access topic the document service publishes to"))
	}
	if c.CoordinatorURL == "" {
		errs = append(errs, errors.New("docplat stats needs --coordinator-url (DOCPLAT_COORDINATOR_URL): the document service's base URL"))
	}
	if c.TxnTimeout < 100*time.Millisecond {
		errs = append(errs, errors.New("txn-timeout must be at least 100ms"))
	}
	return errors.Join(errs...)
}

// OpenServer opens the stats database and builds the process over it; the
// caller closes the Service.
func OpenServer(ctx context.Context, cfg ProcessConfig, log *slog.Logger) (*Service, *Server, error) {
	dc := cfg.DB
	dc.Logger = log
	svc, err := Open(ctx, dc)
	if err != nil {
		return nil, nil, err
	}
	return svc, NewServer(svc, ServerOptions{CoordinatorURL: cfg.CoordinatorURL, InternalSecret: cfg.InternalSecret,
		TxnTimeout: cfg.TxnTimeout, Stream: cfg.Stream, Logger: log}), nil
}

// RunProcess runs the stats process on cfg.Addr until ctx ends, then
// drains its requests and stops its counters.
func RunProcess(ctx context.Context, cfg ProcessConfig, log *slog.Logger) error {
	svc, s, err := OpenServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if svc.MySQL() {
		log.Info("stats service starting", "addr", ln.Addr().String(), "database", "MariaDB/MySQL")
	} else {
		log.Info("stats service starting (embedded SQLite database stats.db)", "addr", ln.Addr().String(), "data_dir", cfg.DB.DataDir)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	return httpserve.Run(ctx, srv, ln, cfg.ShutdownTimeout, s.Run, func() {})
}
