package lock_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"docplat/lock"
)

func TestNewRequiresNodes(t *testing.T) {
	for _, addrs := range [][]string{nil, {}} {
		if l, err := lock.New(addrs, lock.Options{}); err == nil {
			_ = l.Close()
			t.Errorf("New(%v) succeeded, want an error", addrs)
		}
	}
}

// TestAcquireRelease covers mutual exclusion between two Lockers over the
// same three nodes (two instances of the service): the lock is written on
// every node with a TTL, a second Acquire of the same name times out while it
// is held and succeeds once it is released, and different names do not
// contend.
func TestAcquireRelease(t *testing.T) {
	_, addrs := startNodes(t, 3)
	a := newLocker(t, addrs, lock.Options{})
	b := newLocker(t, addrs, lock.Options{}) // another instance
	raw := rawClients(t, addrs)

	before := time.Now()
	held := mustAcquire(t, a, "doc:1", 2*time.Second)
	if got := holders(t, raw, "doc:1"); got != 3 {
		t.Fatalf("lock key present on %d of 3 nodes, want 3", got)
	}
	// Read before any extension can run (default expiry 8s, first extension
	// after ~2.7s); Release below orders it before the keepAlive goroutine.
	if u := held.Until(); !u.After(before) || u.After(before.Add(8*time.Second)) {
		t.Errorf("Until = %v, want within (acquire, acquire+8s default expiry]", u.Sub(before))
	}
	if isClosed(held.Lost()) {
		t.Fatal("Lost closed right after Acquire")
	}

	t.Run("contention while held", func(t *testing.T) {
		tests := []struct {
			name    string
			locker  *lock.Locker
			lock    string
			wantErr error
		}{
			{"other instance, same name", b, "doc:1", lock.ErrTimeout},
			{"same instance, same name", a, "doc:1", lock.ErrTimeout},
			{"other instance, other name", b, "doc:2", nil},
			{"same instance, other name", a, "doc:3", nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := tryAcquire(tc.locker, tc.lock, 300*time.Millisecond)
				if tc.wantErr == nil {
					if err != nil {
						t.Fatalf("Acquire(%q): %v, want success", tc.lock, err)
					}
					return
				}
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Acquire(%q) err = %v, want errors.Is %v", tc.lock, err, tc.wantErr)
				}
				if errors.Is(err, lock.ErrUnavailable) {
					t.Fatalf("Acquire(%q) err = %v: a held lock is not an unavailable quorum", tc.lock, err)
				}
			})
		}
	})

	t.Run("waiter acquires after release", func(t *testing.T) {
		type result struct {
			ls  *lock.Lease
			err error
		}
		got := make(chan result, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		go func() {
			ls, err := b.Acquire(ctx, "doc:1")
			got <- result{ls, err}
		}()

		// The waiter must stay blocked while the lock is held.
		select {
		case r := <-got:
			if r.ls != nil {
				_ = r.ls.Release(context.Background())
			}
			t.Fatalf("second Acquire returned while the first lease was held: err=%v", r.err)
		case <-time.After(400 * time.Millisecond):
		}

		// (Whether Release deletes the key is checked in TestAutoExtension:
		// here the waiter may already have re-created it.)
		mustRelease(t, held)

		select {
		case r := <-got:
			if r.err != nil {
				t.Fatalf("second Acquire after Release: %v", r.err)
			}
			// A quorum, not every node: the waiter's retry may race the
			// release, winning two nodes before the third is released
			// (Redlock's guarantee is the majority).
			if got := holders(t, raw, "doc:1"); got < 2 {
				t.Errorf("after hand-over the key is on %d of 3 nodes, want a quorum (>= 2)", got)
			}
			mustRelease(t, r.ls)
		case <-time.After(5 * time.Second):
			t.Fatal("second Acquire did not succeed within 5s of Release")
		}
	})
}

// TestAutoExtension holds a lease three times as long as its expiry: the
// background extension keeps the key alive on the nodes, other instances
// keep timing out, Lost stays open, and Until has moved past the original
// expiry.
func TestAutoExtension(t *testing.T) {
	const expiry = 600 * time.Millisecond
	const hold = 2 * time.Second
	_, addrs := startNodes(t, 3)
	a := newLocker(t, addrs, lock.Options{Expiry: expiry})
	b := newLocker(t, addrs, lock.Options{Expiry: expiry})
	raw := rawClients(t, addrs)

	start := time.Now()
	ls := mustAcquire(t, a, "job", 2*time.Second)
	// Until is deliberately not read while the lease is held: see
	// TestUntilWhileHeld (data race).

	checks := 0
	for time.Since(start) < hold {
		if isClosed(ls.Lost()) {
			t.Fatalf("Lost closed after %v although all nodes are up", time.Since(start))
		}
		if err := tryAcquire(b, "job", 150*time.Millisecond); !errors.Is(err, lock.ErrTimeout) {
			t.Fatalf("after %v another instance got err = %v, want ErrTimeout", time.Since(start), err)
		}
		checks++
	}
	if checks < 3 {
		t.Logf("only %d contention checks ran", checks)
	}
	// Well past the original expiry the key must still be held on a quorum.
	if n := holders(t, raw, "job"); n < 2 {
		t.Fatalf("after %v (expiry %v) the lock key is on %d nodes, want >= 2", time.Since(start), expiry, n)
	}
	if isClosed(ls.Lost()) {
		t.Fatal("Lost closed at the end of the hold")
	}

	mustRelease(t, ls) // succeeds only if the lease was still ours on a quorum
	// After Release the keepAlive goroutine has ended, so Until is safe to read.
	if u, orig := ls.Until(), start.Add(expiry); !u.After(orig) {
		t.Errorf("Until = start+%v, want after the original expiry start+%v (lease never extended)",
			u.Sub(start), expiry)
	}
	if n := holders(t, raw, "job"); n != 0 {
		t.Errorf("lock key on %d nodes after Release", n)
	}
}

// TestUntilWhileHeld documents that Until may be polled while the lease is
// held (e.g. to check the remaining time before a long write) and moves
// forward as the lease is extended.
func TestUntilWhileHeld(t *testing.T) {

	const expiry = 600 * time.Millisecond
	_, addrs := startNodes(t, 3)
	a := newLocker(t, addrs, lock.Options{Expiry: expiry})
	ls := mustAcquire(t, a, "job", 2*time.Second)
	first := ls.Until()
	deadline := time.Now().Add(5 * time.Second)
	for !ls.Until().After(first) {
		if time.Now().After(deadline) {
			t.Fatalf("Until stayed at %v for 5s", first)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if isClosed(ls.Lost()) {
		t.Fatal("Lost closed")
	}
	mustRelease(t, ls)
}

// TestReleaseTwice: releasing again, sequentially or concurrently, returns
// nil (or the first call's error), never panics, and only counts the lease
// out of the held gauge once.
func TestReleaseTwice(t *testing.T) {
	_, addrs := startNodes(t, 3)
	tests := []struct {
		name       string
		concurrent int
	}{
		{"sequential", 1},
		{"concurrent", 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := newRegistry()
			l := newLocker(t, addrs, lock.Options{Registerer: reg})
			ls := mustAcquire(t, l, "twice-"+tc.name, 2*time.Second)

			first := ls.Release(context.Background())
			if first != nil {
				t.Fatalf("first Release: %v", first)
			}
			errs := make([]error, tc.concurrent)
			var wg sync.WaitGroup
			for i := range errs {
				wg.Go(func() { errs[i] = ls.Release(context.Background()) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil && !errors.Is(err, first) {
					t.Errorf("repeated Release #%d: %v", i, err)
				}
			}
			if g := gathered(t, reg, "docplat_lock_leases_held"); len(g) != 1 || g[0] != 0 {
				t.Errorf("docplat_lock_leases_held = %v, want [0]", g)
			}
			if h := gathered(t, reg, "docplat_lock_hold_seconds"); len(h) != 1 || h[0] != 1 {
				t.Errorf("docplat_lock_hold_seconds sample count = %v, want [1]", h)
			}
			// The lock is free again.
			if err := tryAcquire(l, "twice-"+tc.name, time.Second); err != nil {
				t.Errorf("Acquire after double Release: %v", err)
			}
		})
	}
}

// TestHoldReleasesOnce: Hold's release gives the lock back, so another
// instance takes it at once; while held, the other instance times out.
func TestHoldReleasesOnce(t *testing.T) {
	_, addrs := startNodes(t, 3)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := newLocker(t, addrs, lock.Options{}).Hold(log)
	b := newLocker(t, addrs, lock.Options{}).Hold(log)
	release, err := a(context.Background(), "doc:hold")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := b(ctx, "doc:hold"); !errors.Is(err, lock.ErrTimeout) {
		t.Fatalf("second holder while held: %v, want ErrTimeout", err)
	}
	release()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	release2, err := b(ctx2, "doc:hold")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	release2()
}
