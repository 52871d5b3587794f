package cache

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/allegro/bigcache/v3"
)

// l1 is the in-process level: bigcache with a byte budget for values and
// tombstones, and a separate, smaller one for negative entries so that a
// flood of unknown ids cannot evict real entries. bigcache has no per-entry
// TTL and overwrites on hash collision; the envelope carries key, version
// and deadlines, checked on every read. Writes go through compare-and-set
// under striped mutexes, so an older version never replaces a newer one.
type l1 struct {
	values  *bigcache.BigCache
	missing *bigcache.BigCache
	stripes [256]sync.Mutex
	// trusted is false while invalidations may be missed (the subscription
	// to the invalidation channel is down); L1 is then neither read nor filled.
	trusted atomic.Bool
}

func newL1(ctx context.Context, valueMB, missingMB int, life time.Duration) (*l1, error) {
	mk := func(mb int) (*bigcache.BigCache, error) {
		cfg := bigcache.DefaultConfig(life)
		cfg.Shards = 256
		cfg.CleanWindow = time.Second
		cfg.HardMaxCacheSize = mb
		cfg.MaxEntriesInWindow = 10000
		cfg.MaxEntrySize = 1024
		cfg.Verbose = false
		return bigcache.New(ctx, cfg)
	}
	v, err := mk(valueMB)
	if err != nil {
		return nil, err
	}
	m, err := mk(missingMB)
	if err != nil {
		return nil, err
	}
	return &l1{values: v, missing: m}, nil
}

func (c *l1) stripe(key string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(key))
	return &c.stripes[h.Sum32()%uint32(len(c.stripes))]
}

// get returns the value-cache entry and, failing that, the negative one.
func (c *l1) get(key string) (l1Entry, bool) {
	if b, err := c.values.Get(key); err == nil {
		if e, ok := decodeL1(key, b); ok {
			return e, true
		}
	}
	if b, err := c.missing.Get(key); err == nil {
		if e, ok := decodeL1(key, b); ok {
			return e, true
		}
	}
	return l1Entry{}, false
}

// current is the newest version L1 knows for key (value or tombstone).
func (c *l1) current(key string, now int64) (int64, bool) {
	b, err := c.values.Get(key)
	if err != nil {
		return 0, false
	}
	e, ok := decodeL1(key, b)
	if !ok || e.staleUntil < now {
		return 0, false
	}
	return e.version, true
}

// put stores e unless a newer version is present (reported as false) or
// the fill that produced e started before notBefore... see fillOK.
func (c *l1) put(key string, e l1Entry, fillOK func() bool, fenced bool) (stored bool, err error) {
	mu := c.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	if !fillOK() {
		return false, nil
	}
	if cur, ok := c.current(key, time.Now().UnixNano()); ok && fenced && cur > e.version {
		return false, nil
	}
	if e.kind == kindMissing {
		return true, c.missing.Set(key, encodeL1(key, e))
	}
	if err := c.values.Set(key, encodeL1(key, e)); err != nil {
		return false, err
	}
	// A value or tombstone supersedes a negative entry.
	if err := c.missing.Delete(key); err != nil && !errors.Is(err, bigcache.ErrEntryNotFound) {
		return true, err
	}
	return true, nil
}

// reset drops everything (after a gap in the invalidation stream).
func (c *l1) reset() {
	_ = c.values.Reset()
	_ = c.missing.Reset()
}

func (c *l1) close() {
	_ = c.values.Close()
	_ = c.missing.Close()
}
