package lock_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"docplat/internal/testredis"
	"docplat/lock"
)

// keyPrefix is what lock.Acquire prepends to a lock name to form the Redis key.
const keyPrefix = "lock:"

// startNodes starts n real redis-server processes (stopped at cleanup).
func startNodes(t *testing.T, n int) ([]*testredis.Node, []string) {
	t.Helper()
	nodes := testredis.Start(t, n)
	addrs := make([]string, len(nodes))
	for i, nd := range nodes {
		addrs[i] = nd.Addr()
	}
	return nodes, addrs
}

// newLocker is lock.New that fails the test on error and closes the Locker
// at cleanup.
func newLocker(t *testing.T, addrs []string, opt lock.Options) *lock.Locker {
	t.Helper()
	l, err := lock.New(addrs, opt)
	if err != nil {
		t.Fatalf("lock.New(%v): %v", addrs, err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// mustAcquire acquires name within timeout and registers a best-effort
// Release at cleanup (Release is idempotent).
func mustAcquire(t *testing.T, l *lock.Locker, name string, timeout time.Duration) *lock.Lease {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ls, err := l.Acquire(ctx, name)
	if err != nil {
		t.Fatalf("Acquire(%q): %v", name, err)
	}
	if ls == nil {
		t.Fatalf("Acquire(%q) returned a nil lease and no error", name)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = ls.Release(ctx)
	})
	return ls
}

// tryAcquire acquires name with a context of the given timeout; it returns
// the error and releases the lease if one was (unexpectedly or not) taken.
func tryAcquire(l *lock.Locker, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ls, err := l.Acquire(ctx, name)
	if err == nil {
		_ = ls.Release(context.Background())
	}
	return err
}

func mustRelease(t *testing.T, ls *lock.Lease) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := ls.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
}

// rawClients returns plain go-redis clients to inspect the nodes directly.
func rawClients(t *testing.T, addrs []string) []*redis.Client {
	t.Helper()
	cs := make([]*redis.Client, len(addrs))
	for i, a := range addrs {
		cs[i] = redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1,
			DialTimeout: time.Second, ReadTimeout: time.Second})
		c := cs[i]
		t.Cleanup(func() { _ = c.Close() })
	}
	return cs
}

// holders counts the nodes on which the lock key for name exists with a
// positive TTL (i.e. a lease that will expire on its own).
func holders(t *testing.T, cs []*redis.Client, name string) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	for i, c := range cs {
		ttl, err := c.PTTL(ctx, keyPrefix+name).Result()
		if err != nil {
			t.Fatalf("node %d PTTL: %v", i, err)
		}
		switch {
		case ttl > 0:
			n++
		case ttl == -1:
			t.Fatalf("node %d: lock key %q has no TTL; a dead holder would keep it forever", i, keyPrefix+name)
		}
	}
	return n
}

// waitClosed waits for ch to be closed, failing the test after d.
func waitClosed(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("%s: not closed within %v", what, d)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// gathered returns the metric family called name from reg, or nil.
func gathered(t *testing.T, reg *prometheus.Registry, name string) []float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var out []float64
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetHistogram() != nil:
				out = append(out, float64(m.GetHistogram().GetSampleCount()))
			case m.GetCounter() != nil:
				out = append(out, m.GetCounter().GetValue())
			case m.GetGauge() != nil:
				out = append(out, m.GetGauge().GetValue())
			}
		}
		return out
	}
	return nil
}
