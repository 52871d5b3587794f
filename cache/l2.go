package cache

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed fence.lua
	fenceSource string
	fenceScript = redis.NewScript(fenceSource)
	//go:embed tombstone.lua
	tombstoneSource string
	tombstoneScript = redis.NewScript(tombstoneSource)
)

// l2 is the shared Redis level. After an error it is skipped for a short
// while (reads go to the source) instead of adding a timeout to every read.
type l2 struct {
	rdb       redis.UniversalClient
	prefix    string
	downUntil atomic.Int64
}

const l2Backoff = time.Second

func newL2(rdb redis.UniversalClient, prefix string) *l2 {
	return &l2{rdb: rdb, prefix: prefix}
}

func (c *l2) key(k string) string      { return c.prefix + k }
func (c *l2) leaseKey(k string) string { return c.prefix + "lease:" + k }

func (c *l2) usable() bool { return time.Now().UnixNano() >= c.downUntil.Load() }

func (c *l2) failed(err error, m *metrics) {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return // not Redis's fault
	}
	m.l2Errors.Inc()
	c.downUntil.Store(time.Now().Add(l2Backoff).UnixNano())
}

// Healthy pings Redis (for /readyz).
func (c *l2) healthy(ctx context.Context) error { return c.rdb.Ping(ctx).Err() }

// peek returns the stored version and kind.
func (c *l2) peek(ctx context.Context, key string) (int64, kind, bool) {
	b, err := c.rdb.Get(ctx, c.key(key)).Bytes()
	if err != nil {
		return 0, 0, false
	}
	v, k, _, err := decodeL2(b)
	return v, k, err == nil
}

// get returns a value or negative entry; a tombstone or nothing is a miss.
func (c *l2) get(ctx context.Context, key string, m *metrics) (Entry, bool) {
	e, ok, _ := c.getFloor(ctx, key, m)
	return e, ok
}

// getFloor is get that also answers, on a miss, the version of the
// tombstone it met (0: none).
func (c *l2) getFloor(ctx context.Context, key string, m *metrics) (Entry, bool, int64) {
	b, err := c.rdb.Get(ctx, c.key(key)).Bytes()
	if err != nil {
		c.failed(err, m)
		return Entry{}, false, 0
	}
	v, k, val, err := decodeL2(b)
	switch {
	case err != nil:
		return Entry{}, false, 0
	case k == kindValue:
		return Entry{Version: v, Value: val}, true, 0
	case k == kindMissing:
		return Entry{Missing: true}, true, 0
	case k == kindTombstone:
		return Entry{}, false, v
	}
	return Entry{}, false, 0
}

// lease takes the right to fill key from the source, for ttl.
func (c *l2) lease(ctx context.Context, key string, ttl time.Duration) (string, bool) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	ok, err := c.rdb.SetNX(ctx, c.leaseKey(key), token, ttl).Result()
	if err != nil {
		return "", false
	}
	return token, ok
}

// await polls L2 while another instance fills key.
func (c *l2) await(ctx context.Context, key string, wait time.Duration, m *metrics) (Entry, bool) {
	deadline := time.Now().Add(wait)
	for d := 2 * time.Millisecond; time.Now().Before(deadline); d = min(2*d, 25*time.Millisecond) {
		select {
		case <-ctx.Done():
			return Entry{}, false
		case <-time.After(d):
		}
		if e, ok := c.get(ctx, key, m); ok {
			return e, true
		}
	}
	return Entry{}, false
}

// fill writes a loaded entry through the fence script.
func (c *l2) fill(ctx context.Context, key string, e Entry, token string, ttl time.Duration, fenced bool, m *metrics) {
	k := kindValue
	if e.Missing {
		k = kindMissing
	}
	fence := "1"
	if !fenced {
		fence = "0"
	}
	res, err := fenceScript.Run(ctx, c.rdb, []string{c.key(key), c.leaseKey(key)},
		strconv.FormatInt(e.Version, 10), encodeL2(e.Version, k, e.Value), ttl.Milliseconds(), token, fence).Int()
	switch {
	case err != nil:
		c.failed(err, m)
	case res == 1:
		m.fills.WithLabelValues("l2").Inc()
	case res == 0:
		m.rejected.WithLabelValues("l2").Inc()
	default: // -1: the lease expired; the fill is too old to be trusted
		m.rejected.WithLabelValues("l2_lease").Inc()
	}
}

// tombstone records version for key and tells every instance.
func (c *l2) tombstone(ctx context.Context, key string, version int64, ttl time.Duration, channel string) error {
	_, err := tombstoneScript.Run(ctx, c.rdb, []string{c.key(key)},
		strconv.FormatInt(version, 10), encodeL2(version, kindTombstone, nil), ttl.Milliseconds()).Result()
	if err != nil {
		return err
	}
	return c.rdb.Publish(ctx, channel, encodeInvalidation(key, version, time.Now())).Err()
}
