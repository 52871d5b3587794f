package testredis

import (
	"context"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func client(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:        addr,
		MaxRetries:  -1,
		DialTimeout: time.Second,
		ReadTimeout: time.Second,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestThreeIndependentNodes(t *testing.T) {
	nodes := Start(t, 3)
	if len(nodes) != 3 {
		t.Fatalf("Start returned %d nodes, want 3", len(nodes))
	}
	ctx := context.Background()
	seenAddr := map[string]bool{}
	seenPID := map[int]bool{}
	clients := make([]*redis.Client, len(nodes))
	for i, n := range nodes {
		if !strings.HasPrefix(n.Addr(), "127.0.0.1:") {
			t.Errorf("node %d addr %q not on loopback", i, n.Addr())
		}
		if n.PID() <= 0 {
			t.Errorf("node %d PID = %d", i, n.PID())
		}
		if seenAddr[n.Addr()] || seenPID[n.PID()] {
			t.Fatalf("node %d shares addr/pid with another node: %s pid %d", i, n.Addr(), n.PID())
		}
		seenAddr[n.Addr()], seenPID[n.PID()] = true, true
		if !n.Running() {
			t.Fatalf("node %d not running after Start", i)
		}
		clients[i] = client(t, n.Addr())
		if err := clients[i].Ping(ctx).Err(); err != nil {
			t.Fatalf("node %d PING: %v", i, err)
		}
	}

	// Independence: a key set on node 0 is absent on the others.
	if err := clients[0].Set(ctx, "only-on-0", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := clients[0].Get(ctx, "only-on-0").Result(); err != nil || v != "x" {
		t.Fatalf("node 0 GET = %q, %v", v, err)
	}
	for i := 1; i < 3; i++ {
		if n, err := clients[i].Exists(ctx, "only-on-0").Result(); err != nil || n != 0 {
			t.Fatalf("node %d EXISTS only-on-0 = %d, %v; want 0", i, n, err)
		}
	}

	// Crash node 1: its PING fails, the others still answer.
	victim := nodes[1]
	pid := victim.PID()
	victim.Stop()
	if victim.Running() {
		t.Fatal("node 1 still running after Stop")
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("pid %d still exists after Stop", pid)
	}
	if err := clients[1].Ping(ctx).Err(); err == nil {
		t.Fatal("PING to stopped node succeeded")
	}
	for _, i := range []int{0, 2} {
		if err := clients[i].Ping(ctx).Err(); err != nil {
			t.Fatalf("node %d PING after stopping node 1: %v", i, err)
		}
		if !nodes[i].Running() {
			t.Fatalf("node %d not running", i)
		}
	}
	if v, err := clients[0].Get(ctx, "only-on-0").Result(); err != nil || v != "x" {
		t.Fatalf("node 0 lost its data: %q, %v", v, err)
	}

	victim.Stop() // idempotent
	victim.Stop()
}

func TestCleanupStopsNodes(t *testing.T) {
	var nodes []*Node
	t.Run("inner", func(t *testing.T) {
		nodes = Start(t, 2)
	})
	for i, n := range nodes {
		if n.Running() {
			t.Errorf("node %d still running after its test's cleanup", i)
		}
		if _, err := os.Stat(n.Dir()); !os.IsNotExist(err) {
			t.Errorf("node %d dir %s not removed: %v", i, n.Dir(), err)
		}
	}
}

func TestStartFailureIncludesLogTail(t *testing.T) {
	// A binary that exits at once exercises the retry + log-tail path.
	dir := t.TempDir()
	fake := dir + "/redis-server"
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'fake: cannot bind' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := startNode(fake, t.TempDir(), nil)
	if err == nil {
		t.Fatal("startNode with a failing binary succeeded")
	}
	if !strings.Contains(err.Error(), "fake: cannot bind") {
		t.Fatalf("error lacks log tail: %v", err)
	}
}

func TestStartRetriesOnPortClash(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	calls := 0
	pickPort = func() (int, error) {
		calls++
		if calls <= 2 {
			return busyPort, nil // clash: redis-server fails to bind and exits
		}
		return freePort()
	}
	defer func() { pickPort = freePort }()

	nodes := Start(t, 1)
	if calls != 3 {
		t.Fatalf("pickPort called %d times, want 3 (two clashes, then success)", calls)
	}
	if err := client(t, nodes[0].Addr()).Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING after retry: %v", err)
	}
}
