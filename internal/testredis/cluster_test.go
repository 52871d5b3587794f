package testredis

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestClusterFailsOverAKilledMaster: StartCluster gives 3 masters each with
// a replica; Slot agrees with the server's CLUSTER KEYSLOT; a key written
// through a cluster client survives the crash of its master (its replica
// is promoted) once WAIT has seen the replica take it.
func TestClusterFailsOverAKilledMaster(t *testing.T) {
	start := time.Now()
	c := StartCluster(t, 3, 1)
	t.Logf("3 masters + 3 replicas up and healthy in %v", time.Since(start).Round(time.Millisecond))
	if len(c.Nodes) != 6 {
		t.Fatalf("%d nodes, want 6", len(c.Nodes))
	}
	ctx := context.Background()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), MaxRedirects: 8})
	defer rdb.Close()
	for _, k := range []string{"a", "doc:123", "{doc:1}:lease", "x{}y", "{", "}{a}"} {
		want, err := rdb.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := Slot(k); int64(got) != want {
			t.Errorf("Slot(%q) = %d, server says %d", k, got, want)
		}
	}
	master, replicas, err := c.MasterFor("k")
	if err != nil || len(replicas) != 1 {
		t.Fatalf("MasterFor: %v, %d replicas", err, len(replicas))
	}
	node, err := rdb.MasterForKey(ctx, "k")
	if err != nil || node.Options().Addr != master.Addr() {
		t.Fatalf("client routes k to %v (%v), MasterFor says %s", node, err, master.Addr())
	}
	if err := node.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := node.Wait(ctx, 1, time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 = %d, %v", n, err)
	}
	master.Stop()
	killed := time.Now()
	if err := c.WaitHealthy(3, 0, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("replica promoted %v after the master's crash (cluster-node-timeout %v)", time.Since(killed).Round(time.Millisecond), NodeTimeout)
	promoted, _, err := c.MasterFor("k")
	if err != nil || promoted != replicas[0] {
		t.Fatalf("after the crash k is served by %v (%v), want the replica %s", promoted, err, replicas[0].Addr())
	}
	rdb.ReloadState(ctx)
	var v string
	for deadline := time.Now().Add(5 * time.Second); ; {
		if v, err = rdb.Get(ctx, "k").Result(); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v != "v" {
		t.Fatalf("k after failover = %q, %v", v, err)
	}
}
