package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"docplat/admission"
	"docplat/events"
	"docplat/hotspot"
)

// config is every setting of docplat, filled from flags with DOCPLAT_*
// environment variables as their defaults, and validated once at start-up.
type config struct {
	Addr            string
	DataDir         string
	MySQLDSN        string
	MaxUploadBytes  int64
	AdminPassword   string
	Migrate         bool
	SessionTTL      time.Duration
	SecureCookies   bool
	BlobGrace       time.Duration
	GCInterval      time.Duration
	ShutdownTimeout time.Duration
	LogLevel        string
	LogFormat       string
	TrustedProxies  string
	Admission       string

	StatsMySQLDSN  string
	InternalSecret string
	StatsURL       string
	StatsAddr      string
	CoordinatorURL string
	TxnTimeout     time.Duration
	TxnRecover     time.Duration

	RedisAddr       string
	LockRedisAddrs  string
	LockTimeout     time.Duration
	CacheL1MB       int64
	CacheMaxContent int64
	CacheL1TTL      time.Duration
	CacheL2TTL      time.Duration
	CacheStaleFor   time.Duration

	KafkaBrokers        string
	KafkaTopic          string
	KafkaAddr           string
	KafkaPartitions     int64
	KafkaSessionTimeout time.Duration

	AccessWindow       time.Duration
	AccessBurstCount   int64
	AccessBurstEvery   time.Duration
	StatsFlushInterval time.Duration
	CountsFlush        time.Duration

	DBMaxConns     int64
	SearchCacheTTL time.Duration

	NginxAdmin      string
	ReadTokenSecret string
	ReadTokenTTL    time.Duration
	HotDetector     bool
	HotRate         int64
	HotCoolRate     int64
	HotWindow       time.Duration
	HotMinDuration  time.Duration
	HotMaxBytes     int64
	HotLease        time.Duration
	HotspotAddr     string

	envErrs []error
}

// envSource reads DOCPLAT_* variables; tests pass their own map.
type envSource func(string) (string, bool)

func (c *config) str(env envSource, name, def string) string {
	if v, ok := env(name); ok {
		return v
	}
	return def
}

func (c *config) int64(env envSource, name string, def int64) int64 {
	v, ok := env(name)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("%s=%q is not an integer", name, v))
		return def
	}
	return n
}

func (c *config) duration(env envSource, name string, def time.Duration) time.Duration {
	v, ok := env(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("%s=%q is not a duration (e.g. 30s, 10m, 12h)", name, v))
		return def
	}
	return d
}

func (c *config) bool(env envSource, name string, def bool) bool {
	v, ok := env(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("%s=%q is not a boolean", name, v))
		return def
	}
	return b
}

// register declares the flags shared by the subcommands that open the store.
func (c *config) register(fs *flag.FlagSet, env envSource) {
	fs.StringVar(&c.Addr, "addr", c.str(env, "DOCPLAT_ADDR", ":8080"), "listen address (DOCPLAT_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.str(env, "DOCPLAT_DATA_DIR", "./data"), "blob store and embedded database directory, shared by all instances (DOCPLAT_DATA_DIR)")
	fs.StringVar(&c.MySQLDSN, "mysql-dsn", c.str(env, "DOCPLAT_MYSQL_DSN", ""), "MariaDB/MySQL DSN, e.g. user:pass@tcp(127.0.0.1:3306)/docplat; empty runs the embedded SQLite mode (DOCPLAT_MYSQL_DSN)")
	fs.Int64Var(&c.MaxUploadBytes, "max-upload-bytes", c.int64(env, "DOCPLAT_MAX_UPLOAD_BYTES", 100<<20), "largest accepted document in bytes (DOCPLAT_MAX_UPLOAD_BYTES)")
	fs.StringVar(&c.AdminPassword, "admin-password", c.str(env, "DOCPLAT_ADMIN_PASSWORD", ""), "password of the admin user created on first start; generated and printed once when empty (DOCPLAT_ADMIN_PASSWORD)")
	fs.BoolVar(&c.Migrate, "migrate", c.bool(env, "DOCPLAT_MIGRATE", false), "apply pending migrations at start-up; always on in embedded mode (DOCPLAT_MIGRATE)")
	fs.DurationVar(&c.SessionTTL, "session-ttl", c.duration(env, "DOCPLAT_SESSION_TTL", 12*time.Hour), "lifetime of a login session (DOCPLAT_SESSION_TTL)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", c.bool(env, "DOCPLAT_SECURE_COOKIES", false), "mark session cookies Secure; set when clients reach docplat over HTTPS (DOCPLAT_SECURE_COOKIES)")
	fs.DurationVar(&c.BlobGrace, "blob-grace", c.duration(env, "DOCPLAT_BLOB_GRACE", time.Hour), "unreferenced blobs and staging files younger than this are kept (DOCPLAT_BLOB_GRACE)")
	fs.DurationVar(&c.GCInterval, "gc-interval", c.duration(env, "DOCPLAT_GC_INTERVAL", 10*time.Minute), "how often garbage is collected (DOCPLAT_GC_INTERVAL)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.duration(env, "DOCPLAT_SHUTDOWN_TIMEOUT", 20*time.Second), "how long in-flight requests may finish at shutdown (DOCPLAT_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&c.Admission, "admission", c.str(env, "DOCPLAT_ADMISSION", ""), "per-class admission limits overriding the defaults, class=concurrency/max-wait[/queue] separated by commas, e.g. search=2/250ms,write=4/1s (classes: read, login, write, search, admin; 0 lifts a limit); a request that would wait longer is refused 503 with Retry-After (DOCPLAT_ADMISSION)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.str(env, "DOCPLAT_TRUSTED_PROXIES", "127.0.0.1,::1"), "comma-separated IPs/CIDRs allowed to set X-Forwarded-For, e.g. the nginx in front; empty trusts none (DOCPLAT_TRUSTED_PROXIES)")
	fs.StringVar(&c.StatsMySQLDSN, "stats-mysql-dsn", c.str(env, "DOCPLAT_STATS_MYSQL_DSN", ""), "the stats service's own MariaDB/MySQL database (required with --mysql-dsn); empty in embedded mode: stats.db in the data directory (DOCPLAT_STATS_MYSQL_DSN)")
	fs.StringVar(&c.InternalSecret, "internal-secret", c.str(env, "DOCPLAT_INTERNAL_SECRET", ""), "shared secret of the /internal/ endpoints between docplat services; empty disables them (DOCPLAT_INTERNAL_SECRET)")
	fs.StringVar(&c.StatsURL, "stats-url", c.str(env, "DOCPLAT_STATS_URL", ""), "base URL of a separate stats process ('docplat stats'); empty runs the stats service in this process (DOCPLAT_STATS_URL)")
	fs.StringVar(&c.StatsAddr, "stats-addr", c.str(env, "DOCPLAT_STATS_ADDR", ":8090"), "listen address of 'docplat stats' (DOCPLAT_STATS_ADDR)")
	fs.StringVar(&c.CoordinatorURL, "coordinator-url", c.str(env, "DOCPLAT_COORDINATOR_URL", ""), "for 'docplat stats': base URL of the document service, asked when a transaction times out (DOCPLAT_COORDINATOR_URL)")
	fs.DurationVar(&c.TxnTimeout, "txn-timeout", c.duration(env, "DOCPLAT_TXN_TIMEOUT", 10*time.Second), "a transaction branch that hears nothing for this long is terminated by its participant (DOCPLAT_TXN_TIMEOUT)")
	fs.DurationVar(&c.TxnRecover, "txn-recover-after", c.duration(env, "DOCPLAT_TXN_RECOVER_AFTER", 5*time.Second), "the coordinator resumes transactions left unfinished this long (DOCPLAT_TXN_RECOVER_AFTER)")
	fs.StringVar(&c.RedisAddr, "redis-addr", c.str(env, "DOCPLAT_REDIS_ADDR", ""), "Redis for the shared L2 cache and invalidations, host:port; empty starts embedded Redis servers (one instance only) (DOCPLAT_REDIS_ADDR)")
	fs.StringVar(&c.LockRedisAddrs, "lock-redis-addrs", c.str(env, "DOCPLAT_LOCK_REDIS_ADDRS", ""), "comma-separated independent Redis nodes for Redlock, at least 3 in production; required with --redis-addr (DOCPLAT_LOCK_REDIS_ADDRS)")
	fs.DurationVar(&c.LockTimeout, "lock-timeout", c.duration(env, "DOCPLAT_LOCK_TIMEOUT", 5*time.Second), "how long a write waits for its document's lock (DOCPLAT_LOCK_TIMEOUT)")
	fs.Int64Var(&c.CacheL1MB, "cache-l1-mb", c.int64(env, "DOCPLAT_CACHE_L1_MB", 256), "in-process L1 cache budget in MiB; 0 turns L1 off (DOCPLAT_CACHE_L1_MB)")
	fs.Int64Var(&c.CacheMaxContent, "cache-max-content-bytes", c.int64(env, "DOCPLAT_CACHE_MAX_CONTENT_BYTES", 1<<20), "contents up to this size are cached; larger ones stream from the blob store (DOCPLAT_CACHE_MAX_CONTENT_BYTES)")
	fs.DurationVar(&c.CacheL1TTL, "cache-l1-ttl", c.duration(env, "DOCPLAT_CACHE_L1_TTL", time.Minute), "freshness of L1 entries (DOCPLAT_CACHE_L1_TTL)")
	fs.DurationVar(&c.CacheL2TTL, "cache-l2-ttl", c.duration(env, "DOCPLAT_CACHE_L2_TTL", 10*time.Minute), "freshness of L2 entries, jittered ±10% (DOCPLAT_CACHE_L2_TTL)")
	fs.DurationVar(&c.CacheStaleFor, "cache-stale-for", c.duration(env, "DOCPLAT_CACHE_STALE_FOR", 30*time.Second), "when the database fails, L1 entries may be served this long past freshness; 0 disables (DOCPLAT_CACHE_STALE_FOR)")
	fs.StringVar(&c.KafkaBrokers, "kafka-brokers", c.str(env, "DOCPLAT_KAFKA_BROKERS", ""), "comma-separated Kafka brokers of the access stream, host:port; empty starts an in-process development broker (embedded mode, one instance only) (DOCPLAT_KAFKA_BROKERS)")
	fs.StringVar(&c.KafkaTopic, "kafka-topic", c.str(env, "DOCPLAT_KAFKA_TOPIC", "docplat.access"), "Kafka topic of the access events (DOCPLAT_KAFKA_TOPIC)")
	fs.StringVar(&c.KafkaAddr, "kafka-addr", c.str(env, "DOCPLAT_KAFKA_ADDR", "127.0.0.1:9092"), "for 'docplat kafka': listen address of the development broker (DOCPLAT_KAFKA_ADDR)")
	fs.Int64Var(&c.KafkaPartitions, "kafka-partitions", c.int64(env, "DOCPLAT_KAFKA_PARTITIONS", 6), "partitions of the access topic when docplat creates it (development broker, embedded mode) (DOCPLAT_KAFKA_PARTITIONS)")
	fs.DurationVar(&c.KafkaSessionTimeout, "kafka-session-timeout", c.duration(env, "DOCPLAT_KAFKA_SESSION_TIMEOUT", 10*time.Second), "a consumer silent this long loses its partitions to the rest of its group; within the brokers' group.min/max.session.timeout.ms (DOCPLAT_KAFKA_SESSION_TIMEOUT)")
	fs.DurationVar(&c.AccessWindow, "access-aggregate-window", c.duration(env, "DOCPLAT_ACCESS_AGGREGATE_WINDOW", events.DefaultAggregateWindow), "reads are summed per document this long (from the first read after an idle spell) before one event is published to the access stream; what a crash loses at most (DOCPLAT_ACCESS_AGGREGATE_WINDOW)")
	fs.Int64Var(&c.AccessBurstCount, "access-burst-count", c.int64(env, "DOCPLAT_ACCESS_BURST_COUNT", 0), "a document read this many times within the aggregation window is published at once, so a burst reaches the hot-document detector without waiting for the window; 0: an eighth of hot-rate × hot-window (DOCPLAT_ACCESS_BURST_COUNT)")
	fs.DurationVar(&c.AccessBurstEvery, "access-burst-interval", c.duration(env, "DOCPLAT_ACCESS_BURST_INTERVAL", events.DefaultBurstInterval), "least time between two early publications of bursting documents (they go out together); adds at most this to a burst's time to hot (DOCPLAT_ACCESS_BURST_INTERVAL)")
	fs.DurationVar(&c.StatsFlushInterval, "stats-flush-interval", c.duration(env, "DOCPLAT_STATS_FLUSH_INTERVAL", time.Second), "the stats counters write what they consumed this often, in one transaction with their stream positions (DOCPLAT_STATS_FLUSH_INTERVAL)")
	fs.DurationVar(&c.CountsFlush, "counts-flush-interval", c.duration(env, "DOCPLAT_COUNTS_FLUSH_INTERVAL", time.Second), "the documents' own views/downloads counters (the listing's views sort) are written this often (DOCPLAT_COUNTS_FLUSH_INTERVAL)")
	fs.Int64Var(&c.DBMaxConns, "db-max-conns", c.int64(env, "DOCPLAT_DB_MAX_CONNS", 32), "MySQL connections this process may open, per database; every instance's and the stats service's together must stay under the server's max_connections (DOCPLAT_DB_MAX_CONNS)")
	fs.DurationVar(&c.SearchCacheTTL, "search-cache-ttl", c.duration(env, "DOCPLAT_SEARCH_CACHE_TTL", 5*time.Second), "full-text search rankings are reused this long per query and caller (items are re-checked on every answer); 0 disables (DOCPLAT_SEARCH_CACHE_TTL)")
	fs.StringVar(&c.NginxAdmin, "nginx-admin", c.str(env, "DOCPLAT_NGINX_ADMIN", ""), "comma-separated admin URLs of the nginx hot tiers (loopback, e.g. http://127.0.0.1:8081); empty: no hot tier (DOCPLAT_NGINX_ADMIN)")
	fs.StringVar(&c.ReadTokenSecret, "read-token-secret", c.str(env, "DOCPLAT_READ_TOKEN_SECRET", ""), "secret signing per-document read tokens, shared with nginx; empty: a random one (tokens then work on this instance only) (DOCPLAT_READ_TOKEN_SECRET)")
	fs.DurationVar(&c.ReadTokenTTL, "read-token-ttl", c.duration(env, "DOCPLAT_READ_TOKEN_TTL", 5*time.Minute), "life of a read token (DOCPLAT_READ_TOKEN_TTL)")
	fs.BoolVar(&c.HotDetector, "hotspot-detector", c.bool(env, "DOCPLAT_HOTSPOT_DETECTOR", true), "run the hot-document detector in this process (turn off when 'docplat hotspot' processes run) (DOCPLAT_HOTSPOT_DETECTOR)")
	fs.Int64Var(&c.HotRate, "hot-rate", c.int64(env, "DOCPLAT_HOT_RATE", 200), "accesses per second over the window that make a document hot (DOCPLAT_HOT_RATE)")
	fs.Int64Var(&c.HotCoolRate, "hot-cool-rate", c.int64(env, "DOCPLAT_HOT_COOL_RATE", 100), "a hot document cools below this rate (hysteresis; less than hot-rate) (DOCPLAT_HOT_COOL_RATE)")
	fs.DurationVar(&c.HotWindow, "hot-window", c.duration(env, "DOCPLAT_HOT_WINDOW", time.Second), "sliding window of the hot-document detector, in 10 slices (DOCPLAT_HOT_WINDOW)")
	fs.DurationVar(&c.HotMinDuration, "hot-min-duration", c.duration(env, "DOCPLAT_HOT_MIN_DURATION", 10*time.Second), "a document stays hot at least this long, and cools only after this long below the cool rate (DOCPLAT_HOT_MIN_DURATION)")
	fs.Int64Var(&c.HotMaxBytes, "hot-max-bytes", c.int64(env, "DOCPLAT_HOT_MAX_BYTES", 1<<20), "largest content the nginx hot tier holds; larger hot documents stay on the app (DOCPLAT_HOT_MAX_BYTES)")
	fs.DurationVar(&c.HotLease, "hot-lease", c.duration(env, "DOCPLAT_HOT_LEASE", 15*time.Second), "a hot entry whose detector stops renewing it is demoted after this long; longer than a consumer-group rebalance (DOCPLAT_HOT_LEASE)")
	fs.StringVar(&c.HotspotAddr, "hotspot-addr", c.str(env, "DOCPLAT_HOTSPOT_ADDR", "127.0.0.1:9300"), "for 'docplat hotspot': listen address of its /metrics and /healthz (DOCPLAT_HOTSPOT_ADDR)")
	fs.StringVar(&c.LogLevel, "log-level", c.str(env, "DOCPLAT_LOG_LEVEL", "info"), "debug, info, warn or error (DOCPLAT_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.str(env, "DOCPLAT_LOG_FORMAT", "json"), "json or text (DOCPLAT_LOG_FORMAT)")
}

// validate reports every problem at once, so a bad deployment is fixed in one go.
func (c *config) validate() error {
	errs := append([]error{}, c.envErrs...)
	if c.Addr == "" {
		errs = append(errs, errors.New("addr must not be empty"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir must not be empty"))
	}
	if c.MaxUploadBytes < 1 || c.MaxUploadBytes > 64<<30 {
		errs = append(errs, fmt.Errorf("max-upload-bytes must be between 1 and %d", int64(64<<30)))
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		errs = append(errs, errors.New("admin-password must be at least 8 characters"))
	}
	if c.SessionTTL < time.Minute {
		errs = append(errs, errors.New("session-ttl must be at least 1m"))
	}
	if _, err := c.admission(); err != nil {
		errs = append(errs, err)
	}
	if c.BlobGrace < time.Minute {
		errs = append(errs, errors.New("blob-grace must be at least 1m: shorter would race uploads in flight"))
	}
	if c.GCInterval < time.Second {
		errs = append(errs, errors.New("gc-interval must be at least 1s"))
	}
	if c.AccessWindow < time.Millisecond || c.AccessWindow > 10*time.Second {
		errs = append(errs, errors.New("access-aggregate-window must be between 1ms and 10s"))
	}
	if c.AccessBurstCount < 0 {
		errs = append(errs, errors.New("access-burst-count must not be negative"))
	}
	if c.AccessBurstEvery < time.Millisecond || c.AccessBurstEvery > 10*time.Second {
		errs = append(errs, errors.New("access-burst-interval must be between 1ms and 10s"))
	}
	if c.StatsFlushInterval < 10*time.Millisecond || c.StatsFlushInterval > time.Minute {
		errs = append(errs, errors.New("stats-flush-interval must be between 10ms and 1m"))
	}
	if c.CountsFlush < 10*time.Millisecond || c.CountsFlush > time.Minute {
		errs = append(errs, errors.New("counts-flush-interval must be between 10ms and 1m"))
	}
	for _, p := range c.trustedProxies() {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			errs = append(errs, fmt.Errorf("trusted-proxies: %q is neither an IP nor a CIDR", p))
		}
	}
	if c.StatsURL != "" && c.InternalSecret == "" {
		errs = append(errs, errors.New("internal-secret is required with stats-url: the services authenticate each other with it"))
	}
	if c.MySQLDSN != "" && c.StatsMySQLDSN == "" && c.StatsURL == "" {
		errs = append(errs, errors.New("stats-mysql-dsn is required with mysql-dsn: the stats service owns a separate database (e.g. docplat_stats)"))
	}
	if c.StatsMySQLDSN != "" && c.StatsMySQLDSN == c.MySQLDSN {
		errs = append(errs, errors.New("stats-mysql-dsn must name another database than mysql-dsn"))
	}
	if c.InternalSecret != "" && len(c.InternalSecret) < 16 {
		errs = append(errs, errors.New("internal-secret must be at least 16 characters"))
	}
	if c.RedisAddr != "" && len(c.lockAddrs()) == 0 {
		errs = append(errs, errors.New("lock-redis-addrs must list the Redlock nodes (3 or more independent Redis servers) when redis-addr is set"))
	}
	if c.RedisAddr == "" && len(c.lockAddrs()) > 0 {
		errs = append(errs, errors.New("lock-redis-addrs needs redis-addr: the lock and the cache it protects must be shared by the same instances"))
	}
	if c.TxnTimeout < 100*time.Millisecond || c.TxnRecover < 10*time.Millisecond {
		errs = append(errs, errors.New("txn-timeout must be at least 100ms and txn-recover-after at least 10ms"))
	}
	if c.LockTimeout < 100*time.Millisecond {
		errs = append(errs, errors.New("lock-timeout must be at least 100ms"))
	}
	if c.CacheL1MB < 0 || c.CacheL1MB > 1<<20 {
		errs = append(errs, errors.New("cache-l1-mb must be between 0 (L1 off) and 1048576"))
	}
	if c.CacheMaxContent < 0 || c.CacheMaxContent > 64<<20 {
		errs = append(errs, errors.New("cache-max-content-bytes must be between 0 and 64 MiB"))
	}
	if c.CacheL1TTL < time.Second || c.CacheL2TTL < time.Second {
		errs = append(errs, errors.New("cache-l1-ttl and cache-l2-ttl must be at least 1s"))
	}
	if c.CacheStaleFor < 0 {
		errs = append(errs, errors.New("cache-stale-for must not be negative"))
	}
	for _, b := range c.kafkaBrokers() {
		if _, _, err := net.SplitHostPort(b); err != nil {
			errs = append(errs, fmt.Errorf("kafka-brokers: %q is not host:port", b))
		}
	}
	if !validTopic(c.KafkaTopic) {
		errs = append(errs, fmt.Errorf("kafka-topic %q must be 1-249 characters of a-z A-Z 0-9 . _ -", c.KafkaTopic))
	}
	if c.StatsURL != "" && len(c.kafkaBrokers()) == 0 {
		errs = append(errs, errors.New("kafka-brokers is required with stats-url: the stats process consumes the access topic itself and cannot reach an in-process broker"))
	}
	if c.KafkaPartitions < 1 || c.KafkaPartitions > 1024 {
		errs = append(errs, errors.New("kafka-partitions must be between 1 and 1024"))
	}
	if c.KafkaSessionTimeout < 500*time.Millisecond || c.KafkaSessionTimeout > 5*time.Minute {
		errs = append(errs, errors.New("kafka-session-timeout must be between 500ms and 5m"))
	}
	for _, u := range c.nginxAdmins() {
		if pu, err := url.Parse(u); err != nil || pu.Scheme != "http" || pu.Host == "" {
			errs = append(errs, fmt.Errorf("nginx-admin: %q is not an http:// URL", u))
		}
	}
	if len(c.nginxAdmins()) > 0 && len(c.InternalSecret) < 16 {
		errs = append(errs, errors.New("nginx-admin needs internal-secret (16+ characters): nginx's admin endpoints check it"))
	}
	if c.ReadTokenSecret != "" && len(c.ReadTokenSecret) < 16 {
		errs = append(errs, errors.New("read-token-secret must be at least 16 characters"))
	}
	if c.ReadTokenTTL < time.Second || c.ReadTokenTTL > 24*time.Hour {
		errs = append(errs, errors.New("read-token-ttl must be between 1s and 24h"))
	}
	if err := c.detectorConfig().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("hot-document detector: %w", err))
	}
	if c.SearchCacheTTL < 0 || c.SearchCacheTTL > time.Hour {
		errs = append(errs, errors.New("search-cache-ttl must be between 0 and 1h"))
	}
	if c.DBMaxConns < 2 || c.DBMaxConns > 10000 {
		errs = append(errs, errors.New("db-max-conns must be between 2 and 10000"))
	}
	if c.HotMaxBytes < 1 || c.HotMaxBytes > 64<<20 {
		errs = append(errs, errors.New("hot-max-bytes must be between 1 and 64 MiB"))
	}
	if c.HotLease < time.Second {
		errs = append(errs, errors.New("hot-lease must be at least 1s"))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, errors.New("log-format must be json or text"))
	}
	return errors.Join(errs...)
}

func (c *config) trustedProxies() []string {
	var out []string
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *config) lockAddrs() []string {
	var out []string
	for _, a := range strings.Split(c.LockRedisAddrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func (c *config) nginxAdmins() []string {
	var out []string
	for _, u := range strings.Split(c.NginxAdmin, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// detectorConfig is the hot-document detector's configuration.
func (c *config) detectorConfig() hotspot.Config {
	d := hotspot.DefaultConfig()
	d.Window, d.Slices = c.HotWindow, 10
	d.HotRate, d.CoolRate = float64(c.HotRate), float64(c.HotCoolRate)
	d.MinHotDuration = c.HotMinDuration
	return d
}

func (c *config) kafkaBrokers() []string {
	var out []string
	for _, b := range strings.Split(c.KafkaBrokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// validTopic is Kafka's rule for topic names.
func validTopic(t string) bool {
	if t == "" || len(t) > 249 || t == "." || t == ".." {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log-level %q must be debug, info, warn or error", s)
	}
	return l, nil
}

func (c *config) logger() *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// osEnv reads the process environment: the only place docplat does.
func osEnv(name string) (string, bool) { return os.LookupEnv(name) }

func newFlagSet() *flag.FlagSet { return flag.NewFlagSet("docplat", flag.ContinueOnError) }

// admission is the admission limits: the defaults for this machine with
// the -admission overrides applied.
func (c *config) admission() (admission.Config, error) {
	return admission.Parse(c.Admission, admission.Defaults(0))
}

// accessBurstCount is the reads within an aggregation window that publish
// a document at once: by default an eighth of what makes it hot, so a burst
// reaches the detector within an eighth of the time it takes to detect.
func (c *config) accessBurstCount() int64 {
	if c.AccessBurstCount > 0 {
		return c.AccessBurstCount
	}
	return max(1, int64(float64(c.HotRate)*c.HotWindow.Seconds()/8))
}
