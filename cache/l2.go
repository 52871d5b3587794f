package cache

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	// releaseScript deletes a fill lease only if the caller still holds it.
	releaseScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)
)

// l2 is the shared Redis level. After an error it is skipped for a short
// while (reads go to the source) instead of adding a timeout to every read.
type l2 struct {
	rdb    redis.UniversalClient
	prefix string
	// cluster is rdb on a Redis Cluster (else nil), and waitReplicas how
	// many replicas of a key's master must hold its tombstone before an
	// invalidation counts as recorded.
	cluster      *redis.ClusterClient
	waitReplicas int
	downUntil    atomic.Int64
}

const l2Backoff = time.Second

// waitTimeout bounds WAIT for a tombstone's replicas: on a healthy shard it
// answers within a millisecond; it stays under the client's read timeout
// (300 ms) so that a shard without a live replica fails the write instead
// of the connection.
const waitTimeout = 200 * time.Millisecond

func newL2(rdb redis.UniversalClient, prefix string, waitReplicas int) *l2 {
	c := &l2{rdb: rdb, prefix: prefix}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		c.cluster, c.waitReplicas = cc, waitReplicas
	}
	return c
}

// Keys hold no brace (escaped), so that the lease key can wrap the entry
// key in a hash tag: "{dc:doc:1}:lease" hashes to the slot of "dc:doc:1",
// and the fill script's two keys are on one Redis Cluster node whatever
// the key (one a client chose, braces and all).
var braces = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

func (c *l2) key(k string) string {
	k = c.prefix + k
	if strings.ContainsAny(k, "%{}") {
		k = braces.Replace(k)
	}
	return k
}

func (c *l2) leaseKey(k string) string { return "{" + c.key(k) + "}:lease" }

func (c *l2) usable() bool { return time.Now().UnixNano() >= c.downUntil.Load() }

func (c *l2) failed(err error, m *metrics) {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return // not Redis's fault
	}
	m.l2Errors.Inc()
	c.downUntil.Store(time.Now().Add(l2Backoff).UnixNano())
}

// Healthy pings Redis (for /readyz): on a cluster, every master, since
// each holds a share of the keys.
func (c *l2) healthy(ctx context.Context) error {
	if c.cluster != nil {
		return c.cluster.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			if err := m.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("%s: %w", m.Options().Addr, err)
			}
			return nil
		})
	}
	return c.rdb.Ping(ctx).Err()
}

// refresh makes a cluster client re-read the slot map (after a failover
// its cached map names a dead master until then).
func (c *l2) refresh(ctx context.Context) {
	if c.cluster != nil {
		c.cluster.ReloadState(ctx)
	}
}

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

// await polls L2 while another instance holds key's fill lease. It answers
// the entry once that fill lands, and false once the lease is gone without
// one (the filler failed and released it, or was fenced out), on a Redis
// error, or after wait: a filler that died holding its lease. The filler's
// progress, not a guess at its speed, ends the wait: a loaded filler that
// took longer than a fixed wait made every instance load the key again.
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
		if n, err := c.rdb.Exists(ctx, c.leaseKey(key)).Result(); err != nil || n == 0 {
			c.failed(err, m)
			// The fence script drops the lease as it stores the entry:
			// one more look finds a fill that landed between the reads.
			return c.get(ctx, key, m)
		}
	}
	return Entry{}, false
}

// release gives up a fill lease that will not be used (the load failed or
// answered stale), so that other instances waiting on it load at once.
func (c *l2) release(ctx context.Context, key, token string) {
	_ = releaseScript.Run(ctx, c.rdb, []string{c.leaseKey(key)}, token).Err()
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
	args := []any{strconv.FormatInt(version, 10), encodeL2(version, kindTombstone, nil), ttl.Milliseconds()}
	msg := encodeInvalidation(key, version, time.Now())
	if c.cluster == nil {
		if _, err := tombstoneScript.Run(ctx, c.rdb, []string{c.key(key)}, args...).Result(); err != nil {
			return err
		}
		return c.rdb.Publish(ctx, channel, msg).Err()
	}
	// On a cluster, replication to the key's replicas is asynchronous: a
	// tombstone acknowledged by its master and lost in that master's
	// failover would let the promoted replica serve, or accept a fill of,
	// the version it replaced. So the tombstone and WAIT go down one
	// connection to the key's master (WAIT counts the replicas holding that
	// connection's writes), and the invalidation is recorded only once
	// waitReplicas replicas have it.
	m, err := c.cluster.MasterForKey(ctx, c.key(key))
	if err != nil {
		c.refresh(ctx)
		return err
	}
	// The broadcast goes to the master of the channel's slot, where every
	// instance subscribes (go-redis subscribes there): PUBLISH elsewhere
	// would reach them too, but a cluster-bus hop later.
	pm, err := c.cluster.MasterForKey(ctx, channel)
	if err != nil {
		c.refresh(ctx)
		return err
	}
	sameNode := pm.Options().Addr == m.Options().Addr
	pipe := m.Pipeline()
	eval := pipe.Eval(ctx, tombstoneSource, []string{c.key(key)}, args...)
	var wait *redis.Cmd
	if c.waitReplicas > 0 {
		wait = pipe.Do(ctx, "WAIT", c.waitReplicas, waitTimeout.Milliseconds())
	}
	if sameNode {
		pipe.Publish(ctx, channel, msg)
	}
	_, err = pipe.Exec(ctx)
	if eval.Err() == nil && !sameNode {
		// Even if WAIT fell short: a broadcast is always safe to send. If
		// the channel's master is down (its subscribers are cut off and
		// will flush their L1s), the key's master still reaches the
		// instances subscribed elsewhere, through the cluster bus.
		perr := pm.Publish(ctx, channel, msg).Err()
		if perr != nil {
			c.refresh(ctx)
			perr = m.Publish(ctx, channel, msg).Err()
		}
		if err == nil {
			err = perr
		}
	}
	if err != nil {
		c.refresh(ctx) // a MOVED or a dead master: the slot map is stale
		return err
	}
	if wait != nil {
		if n, err := wait.Int64(); err != nil || n < int64(c.waitReplicas) {
			return fmt.Errorf("cache: the tombstone of %s reached %d of %d replicas of %s within %v (%v)",
				key, n, c.waitReplicas, m.Options().Addr, waitTimeout, err)
		}
	}
	return nil
}
