package redisnodes_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/redis/go-redis/v9"

	"docplat/internal/testredis"
	"docplat/redisnodes"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestEmbeddedNodesServeL2AndThreeLockNodes: with nothing configured, Open
// starts four servers in this process, one for L2 and three Redlock nodes,
// all distinct and answering, and Close stops them.
func TestEmbeddedNodesServeL2AndThreeLockNodes(t *testing.T) {
	n, err := redisnodes.Open(redisnodes.Options{}, false, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := n.L2.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{n.L2.(*redis.Client).Options().Addr: true}
	for _, a := range n.LockAddrs {
		seen[a] = true
	}
	if len(n.LockAddrs) != 3 || len(seen) != 4 {
		t.Fatalf("L2 %s and lock nodes %v: want 4 distinct servers", n.L2.(*redis.Client).Options().Addr, n.LockAddrs)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.L2.Ping(ctx).Err(); err == nil {
		t.Fatal("the L2 client still answers after Close")
	}
}

// TestConfiguredNodesAreUsedAsGiven: a configured L2 and lock nodes are
// connected to, and nothing is started.
func TestConfiguredNodesAreUsedAsGiven(t *testing.T) {
	nodes := testredis.Start(t, 1)
	locks := []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}
	n, err := redisnodes.Open(redisnodes.Options{Addr: nodes[0].Addr(), LockAddrs: locks}, true, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if got := n.L2.(*redis.Client).Options().Addr; got != nodes[0].Addr() {
		t.Fatalf("L2 at %s, want %s", got, nodes[0].Addr())
	}
	if err := n.L2.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if len(n.LockAddrs) != 3 || n.LockAddrs[0] != locks[0] {
		t.Fatalf("lock nodes %v, want %v", n.LockAddrs, locks)
	}
}

// TestOptionsShareCacheAndLockTogether: L2 without lock nodes, or lock
// nodes without L2, would let instances share one and not the other.
func TestOptionsShareCacheAndLockTogether(t *testing.T) {
	for _, tc := range []struct {
		o  redisnodes.Options
		ok bool
	}{
		{redisnodes.Options{}, true},
		{redisnodes.Options{Addr: "r:6379", LockAddrs: []string{"a:1", "b:1", "c:1"}}, true},
		{redisnodes.Options{Addr: "r:6379"}, false},
		{redisnodes.Options{LockAddrs: []string{"a:1"}}, false},
		{redisnodes.Options{ClusterAddrs: []string{"c:1", "c:2"}, LockAddrs: []string{"a:1", "b:1", "d:1"}}, true},
		{redisnodes.Options{ClusterAddrs: []string{"c:1"}}, false},
		{redisnodes.Options{Addr: "r:6379", ClusterAddrs: []string{"c:1"}, LockAddrs: []string{"a:1", "b:1", "d:1"}}, false},
		{redisnodes.Options{ClusterAddrs: []string{"c:1"}, LockAddrs: []string{"c:1", "b:1", "d:1"}}, false},
		{redisnodes.Options{ClusterAddrs: []string{"c:1"}, LockAddrs: []string{"a:1", "b:1", "d:1"}, WaitReplicas: -1}, false},
	} {
		if err := tc.o.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v, want ok %v", tc.o, err, tc.ok)
		}
	}
}

// TestClusterAddrsOpenAClusterClient: seed addresses give a cluster client
// that reaches every master (keys of all slots are written and read), and
// the WAIT setting is carried.
func TestClusterAddrsOpenAClusterClient(t *testing.T) {
	c := testredis.StartCluster(t, 3, 0)
	n, err := redisnodes.Open(redisnodes.Options{ClusterAddrs: c.Addrs()[:1], WaitReplicas: 1,
		LockAddrs: []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}}, true, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	cc, ok := n.L2.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("L2 is a %T, want *redis.ClusterClient", n.L2)
	}
	if n.WaitReplicas != 1 {
		t.Fatalf("WaitReplicas = %d", n.WaitReplicas)
	}
	ctx := context.Background()
	masters := map[string]bool{}
	for i := range 64 {
		k := "k" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if err := n.L2.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if v, err := n.L2.Get(ctx, k).Result(); err != nil || v != k {
			t.Fatalf("GET %s = %q, %v", k, v, err)
		}
		m, err := cc.MasterForKey(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		masters[m.Options().Addr] = true
	}
	if len(masters) != 3 {
		t.Fatalf("64 keys reached %d masters, want 3", len(masters))
	}
}
