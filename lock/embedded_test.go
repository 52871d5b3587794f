package lock_test

import (
	"errors"
	"testing"
	"time"

	"docplat/lock"
	"docplat/redisembed"
)

// TestEmbeddedLeaseExpires: in embedded mode (three in-process miniredis
// servers whose keys expire in real time) the lease of a holder that dies
// without releasing expires, and another Locker then takes the lock.
func TestEmbeddedLeaseExpires(t *testing.T) {
	const expiry = time.Second
	addrs := make([]string, 3)
	for i := range addrs {
		s, err := redisembed.Start()
		if err != nil {
			t.Fatalf("redisembed.Start: %v", err)
		}
		t.Cleanup(s.Close)
		addrs[i] = s.Addr()
	}
	dying, err := lock.New(addrs, lock.Options{Expiry: expiry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dying.Close() })
	other := newLocker(t, addrs, lock.Options{Expiry: expiry})
	raw := rawClients(t, addrs)

	ls := mustAcquire(t, dying, "doc", 2*time.Second)
	if n := holders(t, raw, "doc"); n != 3 {
		t.Fatalf("lock key on %d of 3 embedded nodes, want 3", n)
	}
	// The lock really excludes while its holder is alive.
	if err := tryAcquire(other, "doc", 200*time.Millisecond); !errors.Is(err, lock.ErrTimeout) {
		t.Fatalf("Acquire while held: %v, want ErrTimeout", err)
	}

	// The holder dies: its connections go away, it never releases, and its
	// extensions fail.
	died := time.Now()
	if err := dying.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	ctx, cancel := contextWithTimeout(expiry + 2*time.Second)
	defer cancel()
	ls2, err := other.Acquire(ctx, "doc")
	if err != nil {
		t.Fatalf("Acquire %v after the holder died (expiry %v): %v; the dead holder's lease never expired",
			time.Since(died), expiry, err)
	}
	mustRelease(t, ls2)
	waitClosed(t, ls.Lost(), 2*time.Second, "the dead holder's Lost")
}
