package nginx

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Config is everything Render needs. Zero values take the defaults noted.
type Config struct {
	Listen string // public listener, e.g. ":8088"
	// AdminListen is the admin listener, ip:port: loopback when the apps
	// share the machine, else an address of a private interface they
	// reach. Every admin request is signed with Secret either way.
	AdminListen string
	Upstreams   []string // app instances as ip:port (the Lua balancer does not resolve names)

	Secret      string // the internal secret admin requests are signed with (internalapi.Signature)
	TokenSecret string // read-token HMAC key; defaults to Secret
	// ReadTokenTTL is the apps' read-token life (their --read-token-ttl):
	// after a start, tokens that may have been issued before it are left
	// to the app, since revocations pushed to the previous nginx are gone.
	// Default 5m, the apps' default.
	ReadTokenTTL time.Duration

	ShmSize       int64         // bytes for hot entries; default 64 MiB
	MaxEntryBytes int64         // largest hot entry; default 1 MiB
	TombstoneTTL  time.Duration // how long a purge fences stale pushes; default 30s
	PurgeWait     time.Duration // how long DELETE waits for every worker; default 1s
	LRUItems      int           // per-worker LRU entries; default 32
	LRUTTL        time.Duration // per-worker LRU safety-net TTL; default 2s

	Workers           int // worker_processes; 0 = auto
	WorkerConnections int // default 4096

	VirtualNodes   int           // ring points per instance; default 160
	MaxFails       int           // failures within FailTimeout that mark an instance failing; default 3
	FailTimeout    time.Duration // failure window (the decay); default 5s
	MaxInflight    int           // in-flight requests that mark an instance overloaded; default 512, -1 disables
	ConnectTimeout time.Duration // default 1s
	ReadTimeout    time.Duration // default 60s
	Keepalive      int           // idle upstream connections per worker; default 64

	User          string // worker user ("user" directive); empty: nginx's default (nobody when started as root)
	AccessLog     bool   // write <prefix>/logs/access.log
	ErrorLogLevel string // default "warn"
}

func (c Config) withDefaults() Config {
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	defI := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.TokenSecret == "" {
		c.TokenSecret = c.Secret
	}
	def(&c.ShmSize, 64<<20)
	def(&c.MaxEntryBytes, 1<<20)
	defD(&c.ReadTokenTTL, 5*time.Minute)
	defD(&c.TombstoneTTL, 30*time.Second)
	defD(&c.PurgeWait, time.Second)
	defI(&c.LRUItems, 32)
	defD(&c.LRUTTL, 2*time.Second)
	defI(&c.WorkerConnections, 4096)
	defI(&c.VirtualNodes, 160)
	defI(&c.MaxFails, 3)
	defD(&c.FailTimeout, 5*time.Second)
	defI(&c.MaxInflight, 512)
	defD(&c.ConnectTimeout, time.Second)
	defD(&c.ReadTimeout, 60*time.Second)
	defI(&c.Keepalive, 64)
	if c.ErrorLogLevel == "" {
		c.ErrorLogLevel = "warn"
	}
	return c
}

// Validate reports the first problem with c (after defaults), in words an
// operator can act on.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Listen == "" {
		return errors.New("nginx: Listen is required")
	}
	host, _, err := net.SplitHostPort(c.AdminListen)
	ip := net.ParseIP(host)
	if err != nil || ip == nil || ip.IsUnspecified() {
		// Not all interfaces: the public one would answer too, and an
		// address keeps the operator's choice of network explicit.
		return fmt.Errorf("nginx: AdminListen %q must be <ip>:<port> of one interface, loopback or private (not 0.0.0.0, not a name)", c.AdminListen)
	}
	if len(c.Upstreams) == 0 {
		return errors.New("nginx: at least one upstream (app instance) is required")
	}
	for _, u := range c.Upstreams {
		h, p, err := net.SplitHostPort(u)
		if err != nil || net.ParseIP(h) == nil {
			return fmt.Errorf("nginx: upstream %q must be ip:port", u)
		}
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("nginx: upstream %q has a bad port", u)
		}
	}
	if len(c.Secret) < 16 || len(c.TokenSecret) < 16 {
		// Also what refuses an admin listener off loopback without a secret.
		return errors.New("nginx: Secret (and TokenSecret, if set) must be at least 16 bytes: it signs every admin request")
	}
	if c.MaxEntryBytes <= 0 || c.ShmSize < 2*c.MaxEntryBytes {
		return fmt.Errorf("nginx: ShmSize (%d) must hold at least two entries of MaxEntryBytes (%d)", c.ShmSize, c.MaxEntryBytes)
	}
	for name, d := range map[string]time.Duration{"TombstoneTTL": c.TombstoneTTL, "PurgeWait": c.PurgeWait,
		"LRUTTL": c.LRUTTL, "ReadTokenTTL": c.ReadTokenTTL, "FailTimeout": c.FailTimeout, "ConnectTimeout": c.ConnectTimeout, "ReadTimeout": c.ReadTimeout} {
		if d < time.Millisecond {
			return fmt.Errorf("nginx: %s must be at least 1ms", name)
		}
	}
	if c.Workers < 0 || c.LRUItems < 1 || c.VirtualNodes < 1 || c.MaxFails < 1 || c.Keepalive < 1 {
		return errors.New("nginx: Workers, LRUItems, VirtualNodes, MaxFails and Keepalive must be positive")
	}
	return nil
}
