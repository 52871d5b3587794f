package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"docplat/internal/testredis"
	"docplat/internal/wait"
)

func clusterClient(t *testing.T, c *testredis.Cluster) *redis.ClusterClient {
	t.Helper()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, MaxRetries: 1})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// keyOnMasterWithReplica finds a key (under prefix) whose master is alive
// and has a live replica, and returns both nodes.
func keyOnMasterWithReplica(t *testing.T, c *testredis.Cluster, l *l2, name string) (string, *testredis.Node, *testredis.Node) {
	t.Helper()
	for i := range 1000 {
		k := fmt.Sprintf("%s-%d", name, i)
		m, reps, err := c.MasterFor(l.key(k))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reps {
			if r.Running() {
				return k, m, r
			}
		}
	}
	t.Fatal("no master with a running replica")
	return "", nil, nil
}

// TestOnRedisCluster runs the cache on a real Redis Cluster (3 masters,
// each with a replica), one cluster for all its subtests, the failovers
// last.
func TestOnRedisCluster(t *testing.T) {
	c := testredis.StartCluster(t, 3, 1)
	rdb := clusterClient(t, c)
	ctx := context.Background()

	// The fill script's two keys (entry and lease) share a slot, whatever
	// the key, or the cluster refuses it (CROSSSLOT) and L2 is skipped.
	t.Run("fence race", func(t *testing.T) {
		testFillRace(t, func(*testing.T) redis.UniversalClient { return rdb }, Options{WaitReplicas: 1})
	})

	t.Run("keys of every shape and every master", func(t *testing.T) {
		src := newSource()
		a := instance(t, rdb, Options{Prefix: "shapes:", WaitReplicas: 1})
		b := instance(t, rdb, Options{Prefix: "shapes:", WaitReplicas: 1})
		masters := map[string]bool{}
		for i, k := range []string{"doc:1", "doc:{x}", "a}b", "{", "}{", "100%", "blob:ab", "doc:2", "doc:3", "doc:4", "doc:5", "doc:6"} {
			src.set(k, int64(i+1))
			if e := mustGet(t, a, k, src); e.Version != int64(i+1) {
				t.Fatalf("%q: read %d", k, e.Version)
			}
			if _, l2v := b.Version(ctx, k); l2v != int64(i+1) {
				t.Fatalf("%q: L2 holds %d after the fill, want %d (a refused script?)", k, l2v, i+1)
			}
			if testredis.Slot(a.l2.key(k)) != testredis.Slot(a.l2.leaseKey(k)) {
				t.Fatalf("%q: entry %q and lease %q in different slots", k, a.l2.key(k), a.l2.leaseKey(k))
			}
			m, _, err := c.MasterFor(a.l2.key(k))
			if err != nil {
				t.Fatal(err)
			}
			masters[m.Addr()] = true
			src.set(k, int64(i+100))
			if err := a.Invalidate(ctx, k, int64(i+100)); err != nil {
				t.Fatalf("%q: %v", k, err)
			}
			wait.For(t, wait.Limit, "b's L1 tombstone", func() bool {
				v, ok := b.l1.current(k, time.Now().UnixNano())
				return ok && v == int64(i+100)
			})
			if e := mustGet(t, b, k, src); e.Version != int64(i+100) {
				t.Fatalf("%q after the write: %d", k, e.Version)
			}
		}
		if len(masters) != 3 {
			t.Fatalf("keys landed on %d masters, want 3 (the test would not show routing)", len(masters))
		}
		if err := a.Healthy(ctx); err != nil {
			t.Fatal(err)
		}
	})

	// The decision on failover: an invalidation counts only once a replica
	// holds its tombstone. A hung replica makes it fail (the write is not
	// acknowledged) instead of leaving it on the master alone.
	t.Run("an invalidation waits for a replica", func(t *testing.T) {
		src := newSource()
		w := instance(t, rdb, Options{Prefix: "wait:", WaitReplicas: 1})
		k, _, replica := keyOnMasterWithReplica(t, c, w.l2, "w")
		src.set(k, 1)
		mustGet(t, w, k, src)
		if err := replica.Pause(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err := w.Invalidate(ctx, k, 2)
		took := time.Since(start)
		if err := replica.Resume(); err != nil {
			t.Fatal(err)
		}
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("invalidation with the replica hung = %v, want ErrUnavailable", err)
		}
		t.Logf("refused after %v: %v", took, err)
		wait.For(t, wait.Limit, "the invalidation once the replica is back", func() bool {
			return w.Invalidate(ctx, k, 2) == nil
		})
	})

	// The window WAIT closes: the master acknowledges a tombstone its
	// replica does not have (here the replica is hung and its link was
	// dropped), then the master dies and that replica is promoted. With
	// WaitReplicas 1 the invalidation is refused, so no write relies on
	// it; with 0 it is acknowledged and lost, and the old version comes
	// back from L2 (the run shows the test can see the loss).
	t.Run("a tombstone the replica lacks is refused, not lost", func(t *testing.T) {
		src := newSource()
		strict := instance(t, rdb, Options{Prefix: "lost:", WaitReplicas: 1})
		loose := instance(t, rdb, Options{Prefix: "lost:"})
		k, master, replica := keyOnMasterWithReplica(t, c, strict.l2, "n")
		src.set(k, 1)
		mustGet(t, strict, k, src)
		waitReplicated(t, master)
		if err := replica.Pause(); err != nil {
			t.Fatal(err)
		}
		mc := redis.NewClient(&redis.Options{Addr: master.Addr(), MaxRetries: -1})
		defer mc.Close()
		if err := mc.ClientKillByFilter(ctx, "TYPE", "replica").Err(); err != nil {
			t.Fatal(err)
		}
		src.set(k, 2)
		if err := strict.Invalidate(ctx, k, 2); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("with WaitReplicas 1 and the replica detached: %v, want ErrUnavailable", err)
		}
		if err := loose.Invalidate(ctx, k, 2); err != nil {
			t.Fatalf("with WaitReplicas 0 the master alone acknowledges: %v", err)
		}
		master.Stop()
		if err := replica.Resume(); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitHealthy(3, 0, 20*time.Second); err != nil {
			t.Fatal(err)
		}
		fresh := instance(t, clusterClient(t, c), Options{Prefix: "lost:"})
		if e := mustGet(t, fresh, k, src); e.Version != 1 {
			t.Fatalf("after the failover a new instance reads %d; the lost tombstone should have let version 1 through", e.Version)
		}
		if err := master.Restart(); err != nil { // back as the replica of the promoted one
			t.Fatal(err)
		}
		if err := c.WaitHealthy(3, 1, 20*time.Second); err != nil {
			t.Fatal(err)
		}
	})

	// With WAIT, a tombstone acknowledged just before its master is
	// killed is on the promoted replica: no instance reads the old value.
	// Until the shard has a replica again its invalidations are refused;
	// the old master restarted rejoins as one, and they pass again.
	t.Run("with WAIT an acknowledged tombstone survives its master's crash", func(t *testing.T) {
		src := newSource()
		w := instance(t, clusterClient(t, c), Options{Prefix: "failover:", WaitReplicas: 1})
		other := instance(t, clusterClient(t, c), Options{Prefix: "failover:", WaitReplicas: 1})
		// The master of the invalidation channel: every instance's
		// subscription dies with it and must come back.
		chanMaster, _, err := c.MasterFor(w.opt.Channel)
		if err != nil {
			t.Fatal(err)
		}
		var k string
		var master, replica *testredis.Node
		for i := 0; master != chanMaster; i++ {
			k, master, replica = keyOnMasterWithReplica(t, c, w.l2, fmt.Sprintf("f%d", i))
			if i > 1000 {
				t.Fatal("no key on the channel's master")
			}
		}
		src.set(k, 1)
		mustGet(t, w, k, src)
		src.set(k, 2)
		if err := w.Invalidate(ctx, k, 2); err != nil {
			dc := redis.NewClient(&redis.Options{Addr: master.Addr()})
			info, _ := dc.Info(ctx, "replication").Result()
			lg, _ := os.ReadFile(replica.Dir() + "/redis-server.log")
			t.Fatalf("%v\nmaster %s, replica %s: %s\nreplica log:\n%s", err, master.Addr(), replica.Addr(), info, lg)
		}
		master.Stop() // at once: no time for replication beyond what WAIT saw
		if err := c.WaitHealthy(3, 0, 20*time.Second); err != nil {
			t.Fatal(err)
		}
		if m, _, err := c.MasterFor(w.l2.key(k)); err != nil || m != replica {
			t.Fatalf("after the crash %s is served by %v (%v), want the promoted replica", k, m, err)
		}
		fresh := instance(t, clusterClient(t, c), Options{Prefix: "failover:"})
		if v, kd, ok := fresh.l2.peek(ctx, k); !ok || kd != kindTombstone || v != 2 {
			t.Fatalf("the promoted replica holds %c v%d (%v), want the tombstone v2", kd, v, ok)
		}
		if e := mustGet(t, fresh, k, src); e.Version != 2 {
			t.Fatalf("a new instance reads %d after the failover, want 2", e.Version)
		}
		if err := w.Invalidate(ctx, k, 3); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("invalidation on a shard without a replica: %v, want ErrUnavailable", err)
		}
		if err := master.Restart(); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitHealthy(3, 1, 20*time.Second); err != nil {
			t.Fatal(err)
		}
		// The old instances' clients follow the failover and their
		// subscriptions come back: an invalidation by one reaches the
		// other's L1.
		wait.For(t, 10*time.Second, "the writer's client to follow the failover", func() bool {
			return w.Invalidate(ctx, k, 3) == nil && w.Following() && other.Following()
		})
		if n := testutil.ToFloat64(other.m.subscriptionLost); n < 1 {
			t.Fatalf("the subscription on the killed master was not noticed lost (%v)", n)
		}
		src.set(k, 4)
		mustGet(t, other, k, src)
		if err := w.Invalidate(ctx, k, 5); err != nil {
			t.Fatal(err)
		}
		wait.For(t, wait.Limit, "the other instance's L1 tombstone after resubscribing", func() bool {
			v, ok := other.l1.current(k, time.Now().UnixNano())
			return ok && v == 5
		})
	})
}

// waitReplicated waits until master's replica has acknowledged all the
// master has written (its offset in INFO replication equals the master's).
func waitReplicated(t *testing.T, master *testredis.Node) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: master.Addr(), MaxRetries: -1})
	defer c.Close()
	wait.For(t, wait.Limit, "the replica to catch up", func() bool {
		info, err := c.Info(context.Background(), "replication").Result()
		if err != nil {
			return false
		}
		var off, roff string
		for _, l := range strings.Split(info, "\n") {
			l = strings.TrimSpace(l)
			if v, ok := strings.CutPrefix(l, "master_repl_offset:"); ok {
				off = v
			}
			if v, ok := strings.CutPrefix(l, "slave0:"); ok {
				if i := strings.Index(v, "offset="); i >= 0 {
					roff, _, _ = strings.Cut(v[i+len("offset="):], ",")
				}
			}
		}
		return off != "" && off == roff
	})
}

// BenchmarkInvalidate: the cost of an invalidation (tombstone and
// broadcast) on one node and on a cluster with and without WAIT for a
// replica. go test -run X -bench Invalidate ./cache
func BenchmarkInvalidate(b *testing.B) {
	ctx := context.Background()
	node := testredis.Start(b, 1)[0]
	one := redis.NewClient(&redis.Options{Addr: node.Addr()})
	b.Cleanup(func() { one.Close() })
	c := testredis.StartCluster(b, 3, 1)
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	b.Cleanup(func() { cl.Close() })
	for _, tc := range []struct {
		name string
		rdb  redis.UniversalClient
		wait int
	}{{"node", one, 0}, {"cluster", cl, 0}, {"cluster-wait1", cl, 1}} {
		b.Run(tc.name, func(b *testing.B) {
			cc, err := New(ctx, Options{Redis: tc.rdb, WaitReplicas: tc.wait, Logger: quiet(), Prefix: "bench-" + tc.name + ":"})
			if err != nil {
				b.Fatal(err)
			}
			defer cc.Close()
			for i := 0; b.Loop(); i++ {
				if err := cc.Invalidate(ctx, fmt.Sprintf("doc:%d", i%1000), int64(i+1)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
