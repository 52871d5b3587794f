package main

import (
	"errors"
	"fmt"
	"time"

	"docplat/accounts"
	"docplat/audit"
	"docplat/cache"
	"docplat/docs"
	"docplat/events"
	"docplat/hotspot"
	"docplat/internal/debugserver"
	"docplat/internal/envflag"
	"docplat/internal/logflag"
	"docplat/jobs"
	"docplat/nginx"
	"docplat/preview"
	"docplat/redisnodes"
	"docplat/resumable"
	"docplat/server"
	"docplat/sqlstore"
	"docplat/stats"
)

// storeOptions is the document database and the blob store beside it.
type storeOptions struct {
	DB      sqlstore.Config
	Migrate bool
}

func (o *storeOptions) bind(b *envflag.Set) {
	o.DB.Bind(b)
	b.Bool(&o.Migrate, "migrate", false, "apply pending migrations at start-up; always on in embedded mode; without it a schema behind the binary stops start-up with a clear message")
}

// config is what `docplat serve` runs, and what build wires into an app:
// each package's options, bound to its flags by the package, and the few
// settings that are serve's own.
type config struct {
	Log   logflag.Options
	Store storeOptions

	Addr            string
	AdminPassword   string
	ShutdownTimeout time.Duration
	DebugAddr       string // loopback address of Go's profiler; empty: none

	Accounts        accounts.Options
	Audit           audit.Options
	Docs            docs.Options
	docs.RunOptions // background jobs and caches in front of the repository
	Server          server.Options
	Previews        preview.Options
	Uploads         resumable.Options
	Stats           stats.Placement // in this process, or another one
	InternalSecret  string          // between docplat processes and to nginx's admin endpoints
	TxnTimeout      time.Duration
	TxnRecover      time.Duration
	Redis           redisnodes.Options // empty: embedded Redis servers
	Cache           cache.Options
	Stream          events.StreamConfig // no brokers: an in-process development broker
	Counting        stats.StreamConfig  // its brokers and topic are Stream's
	Hot             nginx.EdgeOptions
	HotDetector     bool
	Detector        hotspot.RunnerConfig
	Jobs            jobs.Config // its brokers are Stream's
	// JobsInProcess runs Jobs.Workers workers in this process (always in
	// embedded mode, where nothing else can).
	JobsInProcess bool
	Prewarm       hotspot.PrewarmOptions
}

// bind declares serve's flags.
func (c *config) bind(b *envflag.Set) {
	c.Log.Bind(b)
	c.Store.bind(b)
	b.String(&c.Addr, "addr", ":8080", "listen address")
	b.String(&c.AdminPassword, "admin-password", "", "password of the admin user created on first start; generated and printed once when empty")
	b.Duration(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may finish at shutdown")
	b.String(&c.DebugAddr, "debug-addr", "", "loopback ip:port (127.0.0.1:6060, [::1]:6060) serving Go's profiler at /debug/pprof/; empty: none; never the public port")
	for _, o := range []interface{ Bind(*envflag.Set) }{&c.Accounts, &c.Audit, &c.Docs, &c.RunOptions, &c.Server, &c.Previews, &c.Uploads, &c.Redis, &c.Cache, &c.Stream, &c.Counting, &c.Hot, &c.Detector, &c.Jobs, &c.Prewarm} {
		o.Bind(b)
	}
	c.Stats.Bind(b, "the stats service's own MariaDB/MySQL database (required with --mysql-dsn, unless --stats-url); empty in embedded mode: stats.db in the data directory",
		&c.Store.DB.DataDir, &c.Store.DB.MaxOpenConns)
	b.String(&c.Stats.URL, "stats-url", "", "base URL of a separate stats process ('docplat stats'); empty runs the stats service in this process")
	b.String(&c.InternalSecret, "internal-secret", "", "shared secret of the /internal/ endpoints between docplat services (16+ characters); empty disables them")
	b.Duration(&c.TxnTimeout, "txn-timeout", 10*time.Second, "a transaction branch that hears nothing for this long is terminated by its participant")
	b.Duration(&c.TxnRecover, "txn-recover-after", 5*time.Second, "the coordinator resumes transactions left unfinished this long")
	b.Bool(&c.HotDetector, "hotspot-detector", true, "run the hot-document detector in this process (turn off when 'docplat hotspot' processes run)")
	b.Bool(&c.JobsInProcess, "jobs-in-process", true, "run jobs-workers job workers (text extraction) in this process beside 'docplat worker' processes; always on in embedded mode (no --kafka-brokers)")
	b.Alias(&c.Counting.Topic, "kafka-topic")
	b.Alias(&c.Counting.Brokers, "kafka-brokers")
	b.After(func() {
		c.Counting.Topic, c.Counting.Brokers = c.Stream.Topic, c.Stream.Brokers
		c.Jobs.Brokers = c.Stream.Brokers
		if c.Stream.Reads.BurstCount == 0 {
			c.Stream.Reads.BurstCount = c.Detector.Detector.BurstCount()
		}
	})
}

// validate reports every problem at once, so a bad deployment is fixed in
// one go: each package checks its own options, and serve how they meet.
func (c *config) validate(b *envflag.Set) error {
	errs := []error{c.Log.Validate(), debugserver.CheckAddr(c.DebugAddr), secretLength("internal-secret", c.InternalSecret),
		c.Stats.Check(c.Store.DB.MySQLDSN, c.InternalSecret, c.Stream.Brokers)}
	for _, o := range []envflag.Validator{&c.Store.DB, &c.Stats.DB, &c.Accounts, &c.Audit, &c.Docs, &c.RunOptions, &c.Server, &c.Previews, &c.Uploads, &c.Redis, &c.Cache, &c.Stream, &c.Stream.DevBroker, &c.Stream.Reads, &c.Counting, &c.Hot, &c.Jobs, &c.Prewarm} {
		errs = append(errs, b.Options(o))
	}
	if err := b.Options(&c.Detector); err != nil {
		errs = append(errs, fmt.Errorf("hot-document detector: %w", err))
	}
	if c.Addr == "" {
		errs = append(errs, errors.New("addr must not be empty"))
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		errs = append(errs, errors.New("admin-password must be at least 8 characters"))
	}
	if c.TxnTimeout < 100*time.Millisecond || c.TxnRecover < 10*time.Millisecond {
		errs = append(errs, errors.New("txn-timeout must be at least 100ms and txn-recover-after at least 10ms"))
	}
	if len(c.Hot.Admins) > 0 && len(c.InternalSecret) < 16 {
		errs = append(errs, errors.New("nginx-admin needs internal-secret (16+ characters): nginx's admin endpoints check it"))
	}
	return b.Check(errs...)
}

// secretLength: a secret, when set, has 16 characters or more.
func secretLength(name, secret string) error {
	if secret != "" && len(secret) < 16 {
		return fmt.Errorf("%s must be at least 16 characters", name)
	}
	return nil
}
