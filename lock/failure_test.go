package lock_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"docplat/lock"
)

// TestNodeFailures: Redlock needs a majority. With 0 or 1 of 3 nodes down
// locks work and Healthy is nil; with 2 or 3 down Acquire fails with
// ErrUnavailable once its context ends, and Healthy reports ErrUnavailable.
func TestNodeFailures(t *testing.T) {
	tests := []struct {
		stopped   int
		available bool
	}{
		{0, true},
		{1, true},
		{2, false},
		{3, false},
	}
	for _, tc := range tests {
		t.Run(map[int]string{0: "none", 1: "one", 2: "two", 3: "all"}[tc.stopped]+" of 3 stopped", func(t *testing.T) {
			nodes, addrs := startNodes(t, 3)
			reg := newRegistry()
			a := newLocker(t, addrs, lock.Options{Registerer: reg})
			b := newLocker(t, addrs, lock.Options{})
			for _, nd := range nodes[:tc.stopped] {
				nd.Stop()
			}

			healthErr := a.Healthy(context.Background())
			if tc.available && healthErr != nil {
				t.Errorf("Healthy with %d of 3 up: %v, want nil", 3-tc.stopped, healthErr)
			}
			if !tc.available && !errors.Is(healthErr, lock.ErrUnavailable) {
				t.Errorf("Healthy with %d of 3 up: %v, want ErrUnavailable", 3-tc.stopped, healthErr)
			}

			if !tc.available {
				const wait = 300 * time.Millisecond
				ctx, cancel := context.WithTimeout(context.Background(), wait)
				defer cancel()
				done := make(chan error, 1)
				go func() {
					ls, err := a.Acquire(ctx, "doc")
					if err == nil {
						_ = ls.Release(context.Background())
					}
					done <- err
				}()
				select {
				case err := <-done:
					if !errors.Is(err, lock.ErrUnavailable) {
						t.Fatalf("Acquire without quorum: %v, want ErrUnavailable", err)
					}
					if errors.Is(err, lock.ErrTimeout) {
						t.Fatalf("Acquire without quorum: %v also matches ErrTimeout", err)
					}
				case <-time.After(wait + 5*time.Second):
					t.Fatalf("Acquire without quorum did not return within 5s after its %v deadline", wait)
				}
				if f := gatheredLabel(t, reg, "docplat_lock_acquire_failures_total", "reason", "unavailable"); f != 1 {
					t.Errorf("failures{reason=unavailable} = %v, want 1", f)
				}
				return
			}

			ls := mustAcquire(t, a, "doc", 2*time.Second)
			// Still mutually exclusive with a node down, and a held lock is a
			// timeout, not an unavailable quorum.
			if err := tryAcquire(b, "doc", 300*time.Millisecond); !errors.Is(err, lock.ErrTimeout) || errors.Is(err, lock.ErrUnavailable) {
				t.Errorf("contending Acquire with %d of 3 up: %v, want ErrTimeout", 3-tc.stopped, err)
			}
			mustRelease(t, ls)
			if err := tryAcquire(b, "doc", 2*time.Second); err != nil {
				t.Errorf("Acquire after Release with %d of 3 up: %v", 3-tc.stopped, err)
			}
		})
	}
}

// TestHeldLeaseSurvivesOneNodeLoss: a node crashing while a lease is held
// does not lose it (extension still reaches a quorum) and Release works.
func TestHeldLeaseSurvivesOneNodeLoss(t *testing.T) {
	nodes, addrs := startNodes(t, 3)
	a := newLocker(t, addrs, lock.Options{Expiry: 600 * time.Millisecond})
	b := newLocker(t, addrs, lock.Options{Expiry: 600 * time.Millisecond})
	ls := mustAcquire(t, a, "doc", 2*time.Second)
	nodes[1].Stop()

	// Several extension periods (every 200ms) pass.
	end := time.Now().Add(time.Second)
	for time.Now().Before(end) {
		if isClosed(ls.Lost()) {
			t.Fatal("Lost closed although 2 of 3 nodes are up")
		}
		if err := tryAcquire(b, "doc", 100*time.Millisecond); !errors.Is(err, lock.ErrTimeout) {
			t.Fatalf("contending Acquire: %v, want ErrTimeout", err)
		}
	}
	mustRelease(t, ls)
}

// TestLeaseLostWhenAllNodesDie: once no quorum can be reached the extension
// fails and Lost is closed; Release then reports an error without hanging.
func TestLeaseLostWhenAllNodesDie(t *testing.T) {
	nodes, addrs := startNodes(t, 3)
	reg := newRegistry()
	a := newLocker(t, addrs, lock.Options{Expiry: 600 * time.Millisecond, Registerer: reg})
	ls := mustAcquire(t, a, "doc", 2*time.Second)
	for _, nd := range nodes {
		nd.Stop()
	}
	waitClosed(t, ls.Lost(), 5*time.Second, "Lost after all nodes died")
	if v := gathered(t, reg, "docplat_lock_leases_lost_total"); len(v) != 1 || v[0] != 1 {
		t.Errorf("docplat_lock_leases_lost_total = %v, want [1]", v)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ls.Release(ctx) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Release of a lost lease with no node up returned nil")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Release of a lost lease hung")
	}
}

// TestLeaseLostWhenTakenOver: if the lease expired (holder paused) and
// someone else took the key, the next extension fails and closes Lost, and
// Release must not delete the new holder's key.
func TestLeaseLostWhenTakenOver(t *testing.T) {
	_, addrs := startNodes(t, 3)
	a := newLocker(t, addrs, lock.Options{Expiry: 600 * time.Millisecond})
	raw := rawClients(t, addrs)
	ls := mustAcquire(t, a, "doc", 2*time.Second)

	ctx := context.Background()
	for i, c := range raw { // what a new holder does after our key expired
		if err := c.Set(ctx, keyPrefix+"doc", "someone-else", 10*time.Second).Err(); err != nil {
			t.Fatalf("node %d SET: %v", i, err)
		}
	}
	waitClosed(t, ls.Lost(), 5*time.Second, "Lost after the key was taken over")
	if err := ls.Release(ctx); err == nil {
		t.Error("Release of a taken-over lease returned nil")
	}
	for i, c := range raw {
		if v, err := c.Get(ctx, keyPrefix+"doc").Result(); err != nil || v != "someone-else" {
			t.Errorf("node %d: new holder's key = %q, %v; Release must not touch it", i, v, err)
		}
	}
}

// blackhole accepts TCP connections and never answers: a node that is
// partitioned or hung rather than refusing connections.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// TestHungNode: a node that accepts connections but never answers is one
// failed node of three: Healthy must still report a quorum, locks still
// work, and a held lock is still classified as a timeout.
func TestHungNode(t *testing.T) {

	_, addrs := startNodes(t, 2)
	addrs = append([]string{blackhole(t)}, addrs...)
	a := newLocker(t, addrs, lock.Options{})
	b := newLocker(t, addrs, lock.Options{})

	if err := a.Healthy(context.Background()); err != nil {
		t.Errorf("Healthy with 2 of 3 answering: %v, want nil", err)
	}
	ls := mustAcquire(t, a, "doc", 3*time.Second)
	if err := tryAcquire(b, "doc", 500*time.Millisecond); !errors.Is(err, lock.ErrTimeout) || errors.Is(err, lock.ErrUnavailable) {
		t.Errorf("contending Acquire with a hung node: %v, want ErrTimeout", err)
	}
	mustRelease(t, ls)
}
