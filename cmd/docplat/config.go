package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"docplat/accounts"
	"docplat/admission"
	"docplat/cache"
	"docplat/docs"
	"docplat/events"
	"docplat/hotspot"
	"docplat/internal/envflag"
	"docplat/server"
	"docplat/sqlstore"
	"docplat/stats"
)

// logOptions is how a command logs; every command has them.
type logOptions struct{ Level, Format string }

func (o *logOptions) bind(b *envflag.Set) {
	b.String(&o.Level, "log-level", "info", "debug, info, warn or error")
	b.String(&o.Format, "log-format", "json", "json or text")
}

func (o logOptions) validate() []error {
	var errs []error
	if _, err := parseLevel(o.Level); err != nil {
		errs = append(errs, err)
	}
	if o.Format != "json" && o.Format != "text" {
		errs = append(errs, errors.New("log-format must be json or text"))
	}
	return errs
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log-level %q must be debug, info, warn or error", s)
	}
	return l, nil
}

func (o logOptions) logger() *slog.Logger {
	level, _ := parseLevel(o.Level)
	opts := &slog.HandlerOptions{Level: level}
	if o.Format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// storeOptions is the document database and the blob store beside it.
type storeOptions struct {
	DB      sqlstore.Config
	Migrate bool
}

func (o *storeOptions) bind(b *envflag.Set) {
	b.String(&o.DB.DataDir, "data-dir", "./data", "blob store and embedded database directory, shared by all instances")
	b.String(&o.DB.MySQLDSN, "mysql-dsn", "", "MariaDB/MySQL DSN, e.g. user:pass@tcp(127.0.0.1:3306)/docplat; empty runs the embedded SQLite mode")
	b.Int(&o.DB.MaxOpenConns, "db-max-conns", 32, "MySQL connections this process may open, per database (2-10000); every instance's and the stats service's together must stay under the server's max_connections (past it a request waits for a connection instead of failing with \"Too many connections\")")
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
	Log   logOptions
	Store storeOptions

	Addr            string
	AdminPassword   string
	ShutdownTimeout time.Duration
	DebugAddr       string // loopback address of Go's profiler; empty: none

	Accounts accounts.Options
	Docs     docs.Options
	Server   server.Options
	// The document service's background jobs and caches in front of its
	// repository (arguments of docs' functions, checked here).
	GCInterval     time.Duration
	CountsFlush    time.Duration
	SearchCacheTTL time.Duration
	LockTimeout    time.Duration

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
	c.Log.bind(b)
	c.Store.bind(b)
	b.String(&c.Addr, "addr", ":8080", "listen address")
	b.Int64(&c.Docs.MaxUploadBytes, "max-upload-bytes", 100<<20, "largest accepted document in bytes")
	b.String(&c.AdminPassword, "admin-password", "", "password of the admin user created on first start; generated and printed once when empty")
	b.Duration(&c.Accounts.SessionTTL, "session-ttl", 12*time.Hour, "lifetime of a login session")
	b.Bool(&c.Server.SecureCookies, "secure-cookies", false, "mark session cookies Secure; set when clients reach docplat over HTTPS")
	b.Duration(&c.Docs.BlobGrace, "blob-grace", time.Hour, "unreferenced blobs and staging files younger than this are kept")
	b.Duration(&c.GCInterval, "gc-interval", 10*time.Minute, "how often garbage is collected")
	b.Duration(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may finish at shutdown")
	b.String(&c.DebugAddr, "debug-addr", "", "loopback ip:port (127.0.0.1:6060, [::1]:6060) serving Go's profiler at /debug/pprof/; empty: none; never the public port")
	c.Server.Admission = admission.Defaults(0)
	b.Var(admissionValue{&c.Server.Admission}, &c.Server.Admission, "admission", "per-class admission limits overriding the defaults, class=concurrency/max-wait[/queue] separated by commas, e.g. search=2/250ms,write=4/1s (classes: read, login, write, search, admin; 0 lifts a limit); a request that would wait longer is refused 503 with Retry-After")
	b.List(&c.Server.TrustedProxies, "trusted-proxies", "127.0.0.1,::1", "", "comma-separated IPs/CIDRs allowed to set X-Forwarded-For, e.g. the nginx in front; empty trusts none")
	statsDB(b, &c.StatsDB, &c.Store, "the stats service's own MariaDB/MySQL database (required with --mysql-dsn, unless --stats-url); empty in embedded mode: stats.db in the data directory")
	b.String(&c.InternalSecret, "internal-secret", "", "shared secret of the /internal/ endpoints between docplat services (16+ characters); empty disables them")
	b.String(&c.StatsURL, "stats-url", "", "base URL of a separate stats process ('docplat stats'); empty runs the stats service in this process")
	b.Duration(&c.TxnTimeout, "txn-timeout", 10*time.Second, "a transaction branch that hears nothing for this long is terminated by its participant")
	b.Duration(&c.TxnRecover, "txn-recover-after", 5*time.Second, "the coordinator resumes transactions left unfinished this long")
	b.String(&c.RedisAddr, "redis-addr", "", "Redis for the shared L2 cache and invalidations, host:port; empty starts embedded Redis servers (one instance only)")
	b.List(&c.LockRedisAddrs, "lock-redis-addrs", "", "", "comma-separated independent Redis nodes for Redlock, at least 3 in production; required with --redis-addr")
	b.Duration(&c.LockTimeout, "lock-timeout", 5*time.Second, "how long a write waits for its document's lock before it is refused 503")
	b.Int(&c.Cache.L1MB, "cache-l1-mb", 256, "in-process L1 cache budget in MiB (bigcache HardMaxCacheSize); 0 turns L1 off")
	b.Int64(&c.Docs.MaxCachedContent, "cache-max-content-bytes", 1<<20, "contents up to this size are cached; larger ones stream from the blob store")
	b.Duration(&c.Cache.L1TTL, "cache-l1-ttl", time.Minute, "freshness of L1 entries (invalidations usually end them sooner)")
	b.Duration(&c.Cache.L2TTL, "cache-l2-ttl", 10*time.Minute, "freshness of L2 entries, jittered ±10%")
	b.Duration(&c.Cache.StaleFor, "cache-stale-for", 30*time.Second, "when the database fails, L1 entries may be served this long past freshness; 0 disables")
	b.List(&c.Access.Brokers, "kafka-brokers", "", "", "comma-separated Kafka brokers of the access stream, host:port; required with --stats-url; empty starts an in-process development broker (embedded mode, one instance only)")
	b.String(&c.Access.Topic, "kafka-topic", "docplat.access", "Kafka topic of the access events")
	b.Int(&c.Broker.Partitions, "kafka-partitions", 6, "partitions of the access topic when docplat creates it (development broker, embedded mode)")
	b.Duration(&c.Counting.SessionTimeout, "kafka-session-timeout", 10*time.Second, "a consumer silent this long loses its partitions to the rest of its group (500ms-5m, within the brokers' group.min/max.session.timeout.ms)")
	b.Alias(&c.Broker.Topic, "kafka-topic")
	b.Alias(&c.Counting.Topic, "kafka-topic")
	b.Alias(&c.Counting.Brokers, "kafka-brokers")
	b.Duration(&c.Reads.Window, "access-aggregate-window", events.DefaultAggregateWindow, "reads are summed per document this long (from the first read after an idle spell) before one event is published to the access stream (1ms-10s); what a crash loses at most")
	b.Int64(&c.Reads.BurstCount, "access-burst-count", 0, "a document read this many times within the aggregation window is published at once, so a burst reaches the hot-document detector without waiting for the window; 0: an eighth of hot-rate × hot-window (25 with the defaults)")
	b.Duration(&c.Reads.BurstInterval, "access-burst-interval", events.DefaultBurstInterval, "least time between two early publications of bursting documents (they go out together); adds at most this to a burst's time to hot (1ms-10s)")
	b.Duration(&c.Counting.FlushInterval, "stats-flush-interval", time.Second, "the stats counters write what they consumed this often, in one transaction with their stream positions (10ms-1m)")
	b.Duration(&c.CountsFlush, "counts-flush-interval", time.Second, "the documents' own views/downloads counters (the listing's views sort) are written this often (10ms-1m)")
	b.Duration(&c.SearchCacheTTL, "search-cache-ttl", 5*time.Second, "full-text search rankings are reused this long per query and caller, and answered up to 1 min longer while one request refreshes them; every item is re-read and re-checked on each answer, so the TTL only delays new matches; 0 disables")
	b.List(&c.NginxAdmin, "nginx-admin", "", "/", "comma-separated admin URLs of the nginx hot tiers (loopback, e.g. http://127.0.0.1:8081); needs --internal-secret; empty: no hot tier")
	b.String(&c.ReadTokenSecret, "read-token-secret", "", "secret signing per-document read tokens, shared with nginx (16+ characters); empty: a random one (tokens then work on this instance only)")
	b.Duration(&c.Server.ReadTokenTTL, "read-token-ttl", 5*time.Minute, "life of a read token")
	b.Bool(&c.HotDetector, "hotspot-detector", true, "run the hot-document detector in this process (turn off when 'docplat hotspot' processes run)")
	detectorFlags(b, &c.Detector)
	b.Int64(&c.HotMaxBytes, "hot-max-bytes", 1<<20, "largest content the nginx hot tier holds; larger hot documents stay on the app")
	b.After(func() {
		c.Broker.Topic, c.Counting.Topic, c.Counting.Brokers = c.Access.Topic, c.Access.Topic, c.Access.Brokers
		if c.Reads.BurstCount == 0 {
			c.Reads.BurstCount = defaultBurstCount(c.Detector.Detector)
		}
	})
}

// detectorFlags declares the hot-document detector's flags (serve, hotspot).
func detectorFlags(b *envflag.Set, r *hotspot.RunnerConfig) {
	r.Detector = hotspot.DefaultConfig() // the window has 10 slices
	b.Float64(&r.Detector.HotRate, "hot-rate", 200, "accesses per second over the window that make a document hot")
	b.Float64(&r.Detector.CoolRate, "hot-cool-rate", 100, "a hot document cools below this rate (hysteresis; less than hot-rate)")
	b.Duration(&r.Detector.Window, "hot-window", time.Second, "sliding window of the hot-document detector, in 10 slices")
	b.Duration(&r.Detector.MinHotDuration, "hot-min-duration", 10*time.Second, "a document stays hot at least this long, and cools only after this long below the cool rate")
	b.Duration(&r.Lease, "hot-lease", 15*time.Second, "a hot entry whose detector stops renewing it is demoted after this long; longer than a consumer-group rebalance")
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
	errs := c.Log.validate()
	if c.Addr == "" {
		errs = append(errs, errors.New("addr must not be empty"))
	}
	if err := checkDebugAddr(c.DebugAddr); err != nil {
		errs = append(errs, err)
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		errs = append(errs, errors.New("admin-password must be at least 8 characters"))
	}
	for _, o := range []envflag.Validator{&c.Store.DB, &c.StatsDB, &c.Accounts, &c.Docs, &c.Server, &c.Cache, &c.Broker, &c.Counting, &c.Reads} {
		errs = append(errs, b.Options(o))
	}
	if err := b.Options(&c.Detector); err != nil {
		errs = append(errs, fmt.Errorf("hot-document detector: %w", err))
	}
	if c.GCInterval < time.Second {
		errs = append(errs, errors.New("gc-interval must be at least 1s"))
	}
	if c.CountsFlush < 10*time.Millisecond || c.CountsFlush > time.Minute {
		errs = append(errs, errors.New("counts-flush-interval must be between 10ms and 1m"))
	}
	if c.SearchCacheTTL < 0 || c.SearchCacheTTL > time.Hour {
		errs = append(errs, errors.New("search-cache-ttl must be between 0 and 1h"))
	}
	if c.LockTimeout < 100*time.Millisecond {
		errs = append(errs, errors.New("lock-timeout must be at least 100ms"))
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

// cacheOptions is the cache's options as cache.New takes them: an L1
// budget of 0 turns L1 off.
func (c *config) cacheOptions() cache.Options {
	o := c.Cache
	if o.L1MB == 0 {
		o.L1MB, o.DisableL1 = 1, true
	}
	return o
}

// admissionValue is the admission flag: overrides applied to the defaults.
type admissionValue struct{ c *admission.Config }

func (v admissionValue) String() string { return "" }

func (v admissionValue) Set(spec string) error {
	c, err := admission.Parse(spec, admission.Defaults(0))
	if err != nil {
		return err
	}
	*v.c = c
	return nil
}
