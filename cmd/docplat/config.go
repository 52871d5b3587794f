package main

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"docplat/accounts"
	"docplat/cache"
	"docplat/docs"
	"docplat/events"
	"docplat/hotspot"
	"docplat/internal/debugserver"
	"docplat/internal/envflag"
	"docplat/internal/logflag"
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

// statsDB is the stats service's own database: its DSN is a flag, its
// directory and pool follow the document database's.
func statsDB(b *envflag.Set, o *stats.Config, store *storeOptions, usage string) {
	b.String(&o.MySQLDSN, "stats-mysql-dsn", "", usage)
	b.Alias(&o.DataDir, "data-dir")
	b.Alias(&o.MaxOpenConns, "db-max-conns")
	b.After(func() { o.DataDir, o.MaxOpenConns = store.DB.DataDir, store.DB.MaxOpenConns })
}

// config is what `docplat serve` runs, and what build wires into an app.
type config struct {
	Log   logflag.Options
	Store storeOptions

	Addr            string
	AdminPassword   string
	ShutdownTimeout time.Duration
	DebugAddr       string // loopback address of Go's profiler; empty: none

	Accounts accounts.Options
	Docs     docs.Options
	Server   server.Options
	// The document service's background jobs and caches in front of its
	// repository.
	docs.RunOptions

	// The stats service: in this process on StatsDB (in Store's directory,
	// with its pool size), or another process at StatsURL; the three-phase
	// commit between them.
	StatsDB        stats.Config
	StatsURL       string
	InternalSecret string
	TxnTimeout     time.Duration
	TxnRecover     time.Duration

	// The cache and lock nodes; empty: embedded Redis servers.
	RedisAddr      string
	LockRedisAddrs []string
	Cache          cache.Options

	// The access stream; no brokers: an in-process development broker.
	// Access holds the brokers and topic; Broker and Counting take them
	// from it.
	Access   events.ProducerConfig
	Broker   events.BrokerConfig
	Counting stats.StreamConfig
	Reads    events.AggregatorConfig

	// The hot tier.
	NginxAdmin      []string
	ReadTokenSecret string
	HotDetector     bool
	Detector        hotspot.RunnerConfig
	HotMaxBytes     int64
}

// bind declares serve's flags.
func (c *config) bind(b *envflag.Set) {
	c.Log.Bind(b)
	c.Store.bind(b)
	b.String(&c.Addr, "addr", ":8080", "listen address")
	c.Accounts.Bind(b)
	c.Docs.Bind(b)
	c.Server.Bind(b)
	c.Cache.Bind(b)
	c.Reads.Bind(b)
	c.RunOptions.Bind(b)
	b.String(&c.AdminPassword, "admin-password", "", "password of the admin user created on first start; generated and printed once when empty")
	b.Duration(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may finish at shutdown")
	b.String(&c.DebugAddr, "debug-addr", "", "loopback ip:port (127.0.0.1:6060, [::1]:6060) serving Go's profiler at /debug/pprof/; empty: none; never the public port")
	statsDB(b, &c.StatsDB, &c.Store, "the stats service's own MariaDB/MySQL database (required with --mysql-dsn, unless --stats-url); empty in embedded mode: stats.db in the data directory")
	b.String(&c.InternalSecret, "internal-secret", "", "shared secret of the /internal/ endpoints between docplat services (16+ characters); empty disables them")
	b.String(&c.StatsURL, "stats-url", "", "base URL of a separate stats process ('docplat stats'); empty runs the stats service in this process")
	b.Duration(&c.TxnTimeout, "txn-timeout", 10*time.Second, "a transaction branch that hears nothing for this long is terminated by its participant")
	b.Duration(&c.TxnRecover, "txn-recover-after", 5*time.Second, "the coordinator resumes transactions left unfinished this long")
	b.String(&c.RedisAddr, "redis-addr", "", "Redis for the shared L2 cache and invalidations, host:port; empty starts embedded Redis servers (one instance only)")
	b.List(&c.LockRedisAddrs, "lock-redis-addrs", "", "", "comma-separated independent Redis nodes for Redlock, at least 3 in production; required with --redis-addr")
	b.List(&c.Access.Brokers, "kafka-brokers", "", "", "comma-separated Kafka brokers of the access stream, host:port; required with --stats-url; empty starts an in-process development broker (embedded mode, one instance only)")
	b.String(&c.Access.Topic, "kafka-topic", "docplat.access", "Kafka topic of the access events")
	b.Int(&c.Broker.Partitions, "kafka-partitions", 6, "partitions of the access topic when docplat creates it (development broker, embedded mode)")
	c.Counting.Bind(b)
	b.Alias(&c.Broker.Topic, "kafka-topic")
	b.Alias(&c.Counting.Topic, "kafka-topic")
	b.Alias(&c.Counting.Brokers, "kafka-brokers")
	b.List(&c.NginxAdmin, "nginx-admin", "", "/", "comma-separated admin URLs of the nginx hot tiers (loopback, e.g. http://127.0.0.1:8081); needs --internal-secret; empty: no hot tier")
	b.String(&c.ReadTokenSecret, "read-token-secret", "", "secret signing per-document read tokens, shared with nginx (16+ characters); empty: a random one (tokens then work on this instance only)")
	b.Bool(&c.HotDetector, "hotspot-detector", true, "run the hot-document detector in this process (turn off when 'docplat hotspot' processes run)")
	c.Detector.Bind(b)
	b.Int64(&c.HotMaxBytes, "hot-max-bytes", 1<<20, "largest content the nginx hot tier holds; larger hot documents stay on the app")
	b.After(func() {
		c.Broker.Topic, c.Counting.Topic, c.Counting.Brokers = c.Access.Topic, c.Access.Topic, c.Access.Brokers
		if c.Reads.BurstCount == 0 {
			c.Reads.BurstCount = defaultBurstCount(c.Detector.Detector)
		}
	})
}

// defaultBurstCount is the reads within an aggregation window that publish
// a document at once: an eighth of what makes it hot, so a burst reaches
// the detector within an eighth of the time it takes to detect.
func defaultBurstCount(d hotspot.Config) int64 {
	return max(1, int64(d.HotRate*d.Window.Seconds()/8))
}

// validate reports every problem at once, so a bad deployment is fixed in
// one go: each package checks its own options, and serve how they meet.
func (c *config) validate(b *envflag.Set) error {
	errs := []error{c.Log.Validate()}
	if c.Addr == "" {
		errs = append(errs, errors.New("addr must not be empty"))
	}
	if err := debugserver.CheckAddr(c.DebugAddr); err != nil {
		errs = append(errs, err)
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		errs = append(errs, errors.New("admin-password must be at least 8 characters"))
	}
	for _, o := range []envflag.Validator{&c.Store.DB, &c.StatsDB, &c.Accounts, &c.Docs, &c.RunOptions, &c.Server, &c.Cache, &c.Broker, &c.Counting, &c.Reads} {
		errs = append(errs, b.Options(o))
	}
	if err := b.Options(&c.Detector); err != nil {
		errs = append(errs, fmt.Errorf("hot-document detector: %w", err))
	}
	if c.TxnTimeout < 100*time.Millisecond || c.TxnRecover < 10*time.Millisecond {
		errs = append(errs, errors.New("txn-timeout must be at least 100ms and txn-recover-after at least 10ms"))
	}
	errs = append(errs, secretLength("internal-secret", c.InternalSecret), secretLength("read-token-secret", c.ReadTokenSecret))
	if c.StatsURL != "" && c.InternalSecret == "" {
		errs = append(errs, errors.New("internal-secret is required with stats-url: the services authenticate each other with it"))
	}
	if c.Store.DB.MySQLDSN != "" && c.StatsDB.MySQLDSN == "" && c.StatsURL == "" {
		errs = append(errs, errors.New("stats-mysql-dsn is required with mysql-dsn: the stats service owns a separate database (e.g. docplat_stats)"))
	}
	if c.StatsDB.MySQLDSN != "" && c.StatsDB.MySQLDSN == c.Store.DB.MySQLDSN {
		errs = append(errs, errors.New("stats-mysql-dsn must name another database than mysql-dsn"))
	}
	if c.RedisAddr != "" && len(c.LockRedisAddrs) == 0 {
		errs = append(errs, errors.New("lock-redis-addrs must list the Redlock nodes (3 or more independent Redis servers) when redis-addr is set"))
	}
	if c.RedisAddr == "" && len(c.LockRedisAddrs) > 0 {
		errs = append(errs, errors.New("lock-redis-addrs needs redis-addr: the lock and the cache it protects must be shared by the same instances"))
	}
	if c.StatsURL != "" && len(c.Access.Brokers) == 0 {
		errs = append(errs, errors.New("kafka-brokers is required with stats-url: the stats process consumes the access topic itself and cannot reach an in-process broker"))
	}
	for _, u := range c.NginxAdmin {
		if pu, err := url.Parse(u); err != nil || pu.Scheme != "http" || pu.Host == "" {
			errs = append(errs, fmt.Errorf("nginx-admin: %q is not an http:// URL", u))
		}
	}
	if len(c.NginxAdmin) > 0 && len(c.InternalSecret) < 16 {
		errs = append(errs, errors.New("nginx-admin needs internal-secret (16+ characters): nginx's admin endpoints check it"))
	}
	if c.HotMaxBytes < 1 || c.HotMaxBytes > 64<<20 {
		errs = append(errs, errors.New("hot-max-bytes must be between 1 and 64 MiB"))
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

// nginxAdmins is the admin URLs of the nginx hot tiers.
func (c *config) nginxAdmins() []string { return c.NginxAdmin }
