package cache

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Invalidation messages: "<version> <sent unix nanos> <key>".
func encodeInvalidation(key string, version int64, sent time.Time) string {
	return fmt.Sprintf("%d %d %s", version, sent.UnixNano(), key)
}

func decodeInvalidation(s string) (key string, version int64, sent time.Time, err error) {
	parts := strings.SplitN(s, " ", 3)
	if len(parts) != 3 {
		return "", 0, time.Time{}, fmt.Errorf("cache: malformed invalidation %q", s)
	}
	version, err = strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return "", 0, time.Time{}, err
	}
	ns, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return "", 0, time.Time{}, err
	}
	return parts[2], version, time.Unix(0, ns), nil
}

// heartbeat is how often the subscription is probed. A subscription that
// does not answer within it is treated as lost: L1 stops answering until it
// is back, because invalidations may be passing it by.
const heartbeat = 250 * time.Millisecond

// Run follows the invalidation channel until ctx ends, applying every
// tombstone to L1. While subscribed L1 serves; on any gap L1 is flushed and
// bypassed until the subscription is re-established.
func (c *Cache) Run(ctx context.Context) {
	if c.l2 == nil {
		<-ctx.Done()
		return
	}
	for backoff := 50 * time.Millisecond; ctx.Err() == nil; backoff = min(2*backoff, 2*time.Second) {
		err := c.follow(ctx)
		c.l1.trusted.Store(false)
		c.l1.reset()
		if ctx.Err() != nil {
			return
		}
		c.m.subscriptionLost.Inc()
		c.l2.refresh(ctx) // on a cluster, the channel's node may have failed over
		c.log.Warn("invalidation subscription lost: L1 bypassed until it is back", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
}

// follow runs one subscription until it fails.
func (c *Cache) follow(ctx context.Context) error {
	ps := c.opt.Redis.Subscribe(ctx)
	defer ps.Close()
	sctx, cancel := context.WithTimeout(ctx, heartbeat*4)
	err := ps.Subscribe(sctx, c.opt.Channel)
	if err == nil {
		_, err = ps.ReceiveTimeout(sctx, heartbeat*4) // the subscription confirmation
	}
	cancel()
	if err != nil {
		return err
	}
	// Anything L1 held may have missed invalidations before this point.
	c.l1.reset()
	c.l1.trusted.Store(!c.opt.DisableL1)
	c.following.Store(true)
	defer c.following.Store(false)
	c.log.Info("following cache invalidations", "channel", c.opt.Channel)
	pinged := time.Now()
	awaitingPong := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, heartbeat)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !isTimeout(err) {
				return err
			}
		}
		switch m := msg.(type) {
		case *redis.Message:
			key, version, sent, derr := decodeInvalidation(m.Payload)
			if derr != nil {
				c.log.Warn("ignoring malformed invalidation", "err", derr)
				continue
			}
			c.tombstoneL1(key, version)
			c.m.invalidationsReceived.Inc()
			c.m.propagation.Observe(max(time.Since(sent), 0).Seconds())
		case *redis.Pong:
			awaitingPong = false
		}
		if time.Since(pinged) >= heartbeat {
			if awaitingPong {
				return fmt.Errorf("cache: no answer to the subscription heartbeat within %s", heartbeat)
			}
			if err := ps.Ping(ctx); err != nil {
				return err
			}
			pinged, awaitingPong = time.Now(), true
		}
	}
}

func isTimeout(err error) bool {
	type timeout interface{ Timeout() bool }
	t, ok := err.(timeout)
	return ok && t.Timeout()
}

// Healthy reports whether L2 answers (for /readyz: a failing L2 degrades
// the instance, it does not take it out).
func (c *Cache) Healthy(ctx context.Context) error {
	if c.l2 == nil {
		return nil
	}
	return c.l2.healthy(ctx)
}

// Following reports whether the invalidation stream is followed (without it
// L1 is bypassed).
func (c *Cache) Following() bool { return c.l2 == nil || c.following.Load() }
