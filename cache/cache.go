// Package cache is docplat's multi-level read-through cache: an in-process
// L1 (bigcache), a shared L2 (Redis) and the caller's source of truth. It is
// generic over keys and versions and knows nothing of documents.
//
// The invariant it keeps: an older version never replaces a newer one at any
// level. Every entry carries the source's version (a row version that
// increases with every write). Writers invalidate with a tombstone carrying
// the new version, never a blind delete; fills are compare-and-set against
// the stored version or tombstone (a Lua script in L2, striped mutexes in
// L1). A fill may only write while it is younger than the fill lease, and
// tombstones outlive that lease by far, so a filler paused for any length of
// time cannot resurrect an old value once its tombstone is gone.
package cache

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"docplat/internal/failpoint"
)

// Entry is what a loader returns and Get answers: a value at a version, or
// Missing when the source has no such key (cached negatively, briefly).
type Entry struct {
	Version int64
	Value   []byte
	Missing bool
	// Stale is set on answers served past their freshness because the
	// source failed (see Options.StaleFor).
	Stale bool
}

// Loader reads a key from the source of truth.
type Loader func(ctx context.Context) (Entry, error)

// ErrUnavailable: an invalidation could not be recorded in L2, so the write
// it protects must not be acknowledged.
var ErrUnavailable = errors.New("cache: L2 unavailable, invalidation not recorded")

// Options configure a Cache. Zero values take the defaults in brackets.
type Options struct {
	L1MB         int                   // L1 budget for values and tombstones [256]
	DisableL1    bool                  // every read goes to L2 (measurement, debugging)
	NegativeMB   int                   // L1 budget for negative entries [16]
	L1TTL        time.Duration         // freshness of an L1 entry [60s]
	L2TTL        time.Duration         // freshness of an L2 entry, jittered ±10% [10m]
	NegativeTTL  time.Duration         // freshness of a negative entry [5s]
	TombstoneTTL time.Duration         // life of a tombstone; must exceed FillLease by far [60s]
	FillLease    time.Duration         // a fill older than this never writes [5s]
	StaleFor     time.Duration         // serve an L1 value this long past freshness when the source fails [30s]
	LeaseWait    time.Duration         // how long a fill waits on another instance's held lease: bounds a filler that died holding it; one that fills or fails ends the wait at once [1s]
	Redis        redis.UniversalClient // L2 and the invalidation channel; nil: L1 only (one instance)
	WaitReplicas int                   // on a Redis Cluster: replicas that must hold a tombstone (WAIT) [0]
	Channel      string                // invalidation channel ["docplat:invalidate"]
	Prefix       string                // L2 key prefix ["dc:"]
	Registerer   prometheus.Registerer
	Logger       *slog.Logger
}

// Cache is one instance's view of the levels.
type Cache struct {
	opt Options
	l1  *l1
	l2  *l2
	sf  singleflight.Group
	m   *metrics
	log *slog.Logger
	now func() time.Time
	// following is true while subscribed to the invalidation channel.
	following atomic.Bool
}

// New builds a cache; call Run to follow invalidations from other instances.
func New(ctx context.Context, opt Options) (*Cache, error) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if opt.L1MB <= 0 {
		opt.L1MB = 256
	}
	if opt.NegativeMB <= 0 {
		opt.NegativeMB = 16
	}
	def(&opt.L1TTL, time.Minute)
	def(&opt.L2TTL, 10*time.Minute)
	def(&opt.NegativeTTL, 5*time.Second)
	def(&opt.TombstoneTTL, time.Minute)
	def(&opt.FillLease, 5*time.Second)
	def(&opt.StaleFor, 30*time.Second)
	def(&opt.LeaseWait, time.Second)
	if opt.TombstoneTTL < 4*opt.FillLease {
		return nil, errors.New("cache: TombstoneTTL must be at least 4x FillLease")
	}
	if opt.Channel == "" {
		opt.Channel = "docplat:invalidate"
	}
	if opt.Prefix == "" {
		opt.Prefix = "dc:"
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	life := max(opt.L1TTL+opt.StaleFor, opt.TombstoneTTL)
	l1, err := newL1(ctx, opt.L1MB, opt.NegativeMB, life)
	if err != nil {
		return nil, err
	}
	c := &Cache{opt: opt, l1: l1, m: newMetrics(opt.Registerer), log: opt.Logger, now: time.Now}
	if opt.Redis != nil {
		c.l2 = newL2(opt.Redis, opt.Prefix, opt.WaitReplicas)
	} else if !opt.DisableL1 {
		c.l1.trusted.Store(true) // one instance: every invalidation is local
	}
	return c, nil
}

// Close releases L1's memory.
func (c *Cache) Close() { c.l1.close() }

// Get answers key from the first level that has a fresh entry, filling the
// levels above from the one that answered (at most one fill per key per
// instance, and one per key across instances when L2 is up).
func (c *Cache) Get(ctx context.Context, key string, load Loader) (Entry, error) {
	if c.l1.trusted.Load() {
		if e, ok := c.l1.get(key); ok && e.kind != kindTombstone && c.now().UnixNano() < e.freshUntil {
			c.m.hit("l1")
			return Entry{Version: e.version, Value: e.value, Missing: e.kind == kindMissing}, nil
		}
	}
	c.m.miss("l1")
	v, err, _ := c.sf.Do(key, func() (any, error) {
		// The fill outlives a caller that gives up; it is bounded by the lease.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opt.FillLease)
		defer cancel()
		return c.fill(fctx, key, load)
	})
	if err != nil {
		return Entry{}, err
	}
	return v.(Entry), nil
}

func (c *Cache) fill(ctx context.Context, key string, load Loader) (Entry, error) {
	start := time.Now() // monotonic: the age check below survives wall-clock jumps
	fresh := func() bool { return time.Since(start) < c.opt.FillLease }
	var floor int64 // the newest version known before loading (Floor)
	if v, ok := c.l1.current(key, c.now().UnixNano()); ok {
		floor = v
	}
	if c.l2 != nil && c.l2.usable() {
		e, ok, tomb := c.l2.getFloor(ctx, key, c.m)
		floor = max(floor, tomb)
		ctx = context.WithValue(ctx, floorKey{}, floor)
		if ok {
			c.m.hit("l2")
			c.putL1(key, e, fresh)
			return e, nil
		}
		c.m.miss("l2")
		token, leased := c.l2.lease(ctx, key, c.opt.FillLease)
		if !leased {
			// Another instance is filling: wait for its result in L2.
			if e, ok := c.l2.await(ctx, key, c.opt.LeaseWait, c.m); ok {
				c.m.hit("l2")
				c.putL1(key, e, fresh)
				return e, nil
			}
		}
		e, err := c.load(ctx, key, load)
		if leased && (err != nil || e.Stale) {
			// Nothing to fill: let instances waiting on the lease load now.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			c.l2.release(rctx, key, token)
			cancel()
		}
		if err != nil {
			return Entry{}, err
		}
		if leased && !e.Stale {
			_ = failpoint.Inject(failpoint.CacheBeforeL2Fill, c) // tests interleave a writer here
			if fresh() {
				// Not the fill's context: it ends with the lease, and the
				// script checks the lease itself.
				wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
				c.l2.fill(wctx, key, e, token, c.l2TTL(e), c.fenced(), c.m)
				cancel()
			} else {
				c.m.rejected.WithLabelValues("l2_lease").Inc()
			}
		}
		// An answer older than a tombstone L2 showed (another instance's
		// write, whose broadcast may not have reached this L1 yet) is
		// returned to the caller, whose loader was told the floor, but
		// never cached.
		if !e.Stale && (e.Missing || e.Version >= floor) {
			c.putL1(key, e, fresh)
		}
		return e, nil
	}
	e, err := c.load(context.WithValue(ctx, floorKey{}, floor), key, load)
	if err == nil && !e.Stale {
		c.putL1(key, e, fresh)
	}
	return e, err
}

type floorKey struct{}

// Floor is, inside a Loader, the newest version the cache knew for the key
// when the load began: a tombstone's (a write committed or on its way) or
// an older value's, in L1 or L2; 0 when none. A loader whose source may lag
// (a database replica) must not answer older than it: no level would store
// it (fills are fenced), but the caller would be told a revision older than
// one that some client may already have been told about.
func Floor(ctx context.Context) int64 {
	v, _ := ctx.Value(floorKey{}).(int64)
	return v
}

// load asks the source; when it fails, a value L1 still holds within its
// stale window is served instead, and counted.
func (c *Cache) load(ctx context.Context, key string, load Loader) (Entry, error) {
	c.m.loads.Inc()
	e, err := load(ctx)
	if err == nil {
		return e, nil
	}
	c.m.loadErrors.Inc()
	if c.l1.trusted.Load() {
		if old, ok := c.l1.get(key); ok && old.kind == kindValue && c.now().UnixNano() < old.staleUntil {
			c.m.staleServed.Inc()
			c.log.Warn("serving a stale cache entry: the source failed", "key", key, "version", old.version, "err", err)
			return Entry{Version: old.version, Value: old.value, Stale: true}, nil
		}
	}
	return Entry{}, err
}

func (c *Cache) l2TTL(e Entry) time.Duration {
	if e.Missing {
		return c.opt.NegativeTTL
	}
	j := float64(c.opt.L2TTL) * (0.9 + 0.2*rand.Float64())
	return time.Duration(j)
}

func (c *Cache) putL1(key string, e Entry, fresh func() bool) {
	if !c.l1.trusted.Load() {
		return
	}
	_ = failpoint.Inject(failpoint.CacheBeforeL1Fill, c) // tests interleave a writer here
	now := c.now().UnixNano()
	le := l1Entry{version: e.Version, value: e.Value, kind: kindValue,
		freshUntil: now + int64(c.opt.L1TTL), staleUntil: now + int64(c.opt.L1TTL+c.opt.StaleFor)}
	if e.Missing {
		le.kind, le.version, le.value = kindMissing, 0, nil
		le.freshUntil = now + int64(c.opt.NegativeTTL)
		le.staleUntil = le.freshUntil
	}
	stored, err := c.l1.put(key, le, fresh, c.fenced())
	switch {
	case err != nil:
		c.log.Warn("L1 write failed", "key", key, "err", err)
	case !stored:
		c.m.rejected.WithLabelValues("l1").Inc()
	default:
		c.m.fills.WithLabelValues("l1").Inc()
	}
}

// fenced is whether writes check versions: always, but for tests that
// prove the fence necessary (failpoint.CacheUnfenced).
func (c *Cache) fenced() bool { return failpoint.Inject(failpoint.CacheUnfenced, c) == nil }

// Invalidate records that key changed to version: a tombstone in L2 (which
// refuses every older fill) and in this instance's L1, then a broadcast to
// every other instance's L1. A writer calls it before and after its source
// commit; an error means the write must not be acknowledged.
func (c *Cache) Invalidate(ctx context.Context, key string, version int64) error {
	c.tombstoneL1(key, version)
	if c.l2 == nil {
		return nil
	}
	if err := c.l2.tombstone(ctx, key, version, c.opt.TombstoneTTL, c.opt.Channel); err != nil {
		c.m.invalidationErrors.Inc()
		return errors.Join(ErrUnavailable, err)
	}
	c.m.invalidationsSent.Inc()
	return nil
}

func (c *Cache) tombstoneL1(key string, version int64) {
	now := c.now().UnixNano()
	e := l1Entry{version: version, kind: kindTombstone, freshUntil: now, staleUntil: now + int64(c.opt.TombstoneTTL)}
	if _, err := c.l1.put(key, e, func() bool { return true }, c.fenced()); err != nil {
		c.log.Warn("L1 tombstone failed", "key", key, "err", err)
	}
}

// Version is the version each level holds for key (-1: nothing), for tests
// and diagnostics.
func (c *Cache) Version(ctx context.Context, key string) (l1v, l2v int64) {
	l1v, l2v = -1, -1
	if e, ok := c.l1.get(key); ok && e.kind == kindValue {
		l1v = e.version
	}
	if c.l2 != nil {
		if v, k, ok := c.l2.peek(ctx, key); ok && k == kindValue {
			l2v = v
		}
	}
	return l1v, l2v
}
