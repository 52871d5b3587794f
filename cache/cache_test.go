package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"docplat/internal/failpoint"
	"docplat/internal/wait"
	"docplat/redisembed"
)

func TestReadThroughLevels(t *testing.T) {
	rdb, _ := redisNode(t)
	src := newSource()
	src.set("k", 7)
	a := instance(t, rdb, Options{})
	b := instance(t, rdb, Options{})

	if e := mustGet(t, a, "k", src); e.Version != 7 || string(e.Value) != "v7" {
		t.Fatalf("first read = %+v", e)
	}
	mustGet(t, a, "k", src) // L1 hit
	mustGet(t, b, "k", src) // L2 hit, fills B's L1
	mustGet(t, b, "k", src) // L1 hit
	if n := src.loads.Load(); n != 1 {
		t.Fatalf("source loads = %d, want 1 (then L1, L2 and L1 hits)", n)
	}
	if l1v, l2v := b.Version(context.Background(), "k"); l1v != 7 || l2v != 7 {
		t.Fatalf("B levels = L1 %d, L2 %d", l1v, l2v)
	}
}

func TestOneFillPerKeyPerInstanceAndAcrossInstances(t *testing.T) {
	rdb, _ := redisNode(t)
	src := newSource()
	src.set("hot", 1)
	src.delay = 50 * time.Millisecond // a slow source makes the stampede visible
	// The other instances wait on the filler's lease, not on its speed: with
	// the default LeaseWait a filler slowed past it on a loaded machine
	// made them load too. LeaseWait only bounds a filler that died.
	opt := Options{LeaseWait: wait.Limit}
	instances := []*Cache{instance(t, rdb, opt), instance(t, rdb, opt), instance(t, rdb, opt)}
	var wg sync.WaitGroup
	for i := range 300 {
		c := instances[i%len(instances)]
		wg.Go(func() { mustGet(t, c, "hot", src) })
	}
	wg.Wait()
	if n := src.loads.Load(); n != 1 {
		var l2Errors, l2Hits float64
		for _, c := range instances {
			l2Errors += testutil.ToFloat64(c.m.l2Errors)
			l2Hits += testutil.ToFloat64(c.m.requests.WithLabelValues("l2", "hit"))
		}
		t.Fatalf("300 concurrent cold reads on 3 instances caused %d source loads, want 1 (Redis errors: %v, L2 hits: %v)", n, l2Errors, l2Hits)
	}
}

// TestAFailedFillReleasesItsLeaseToTheWaiters: when the instance holding
// the fill lease fails to load, it gives the lease up, so an instance
// waiting on it loads at once instead of waiting out LeaseWait (here far
// beyond the test's limit).
func TestAFailedFillReleasesItsLeaseToTheWaiters(t *testing.T) {
	rdb, _ := redisNode(t)
	opt := Options{LeaseWait: time.Hour, FillLease: time.Hour, TombstoneTTL: 4 * time.Hour}
	filler, waiter := instance(t, rdb, opt), instance(t, rdb, opt)
	src := newSource()
	src.set("k", 1)
	loading, fail := make(chan struct{}), make(chan struct{})
	failed := make(chan error, 1)
	go func() {
		_, err := filler.Get(context.Background(), "k", func(context.Context) (Entry, error) {
			close(loading)
			<-fail
			return Entry{}, errors.New("source down")
		})
		failed <- err
	}()
	<-loading // the filler holds the lease now
	got := make(chan error, 1)
	go func() {
		e, err := waiter.Get(context.Background(), "k", src.loader("k"))
		if err == nil && e.Version != 1 {
			err = fmt.Errorf("got version %d, want 1", e.Version)
		}
		got <- err
	}()
	wait.For(t, wait.Limit, "the waiter to poll the lease", func() bool {
		return testutil.ToFloat64(waiter.m.requests.WithLabelValues("l2", "miss")) >= 1
	})
	close(fail)
	if err := <-failed; err == nil {
		t.Fatal("the filler's Get succeeded; its source failed")
	}
	wait.Returned(t, got, "the waiter's Get")
	if n := src.loads.Load(); n != 1 {
		t.Fatalf("the waiter loaded %d times, want 1", n)
	}
}

func TestInvalidationReachesEveryInstance(t *testing.T) {
	rdb, _ := redisNode(t)
	reg := prometheus.NewRegistry()
	src := newSource()
	src.set("doc", 1)
	reader := instance(t, rdb, Options{Registerer: reg})
	writer := instance(t, rdb, Options{})
	mustGet(t, reader, "doc", src)

	src.set("doc", 2)
	sent := time.Now()
	if err := writer.Invalidate(context.Background(), "doc", 2); err != nil {
		t.Fatal(err)
	}
	wait.For(t, wait.Limit, "the reader's L1 tombstone", func() bool {
		v, ok := reader.l1.current("doc", time.Now().UnixNano())
		return ok && v == 2
	})
	t.Logf("invalidation reached the other instance's L1 in %v", time.Since(sent))
	if e := mustGet(t, reader, "doc", src); e.Version != 2 {
		t.Fatalf("read after invalidation = %d", e.Version)
	}
	if n := testutil.ToFloat64(reader.m.invalidationsReceived); n < 1 {
		t.Fatalf("invalidations received = %v", n)
	}
}

func TestInvalidateRefusesToGoBackwards(t *testing.T) {
	rdb, _ := redisNode(t)
	src := newSource()
	c := instance(t, rdb, Options{})
	src.set("k", 5)
	mustGet(t, c, "k", src)
	// A late, lower tombstone (a delayed writer) must not hide version 5's successor.
	for _, v := range []int64{6, 4} {
		if err := c.Invalidate(context.Background(), "k", v); err != nil {
			t.Fatal(err)
		}
	}
	if v, k, ok := c.l2.peek(context.Background(), "k"); !ok || k != kindTombstone || v != 6 {
		t.Fatalf("L2 holds %c v%d, want tombstone v6", k, v)
	}
	if v, ok := c.l1.current("k", time.Now().UnixNano()); !ok || v != 6 {
		t.Fatalf("L1 holds v%d, want 6", v)
	}
}

func TestNegativeEntriesAreCachedBrieflyAndKeptApart(t *testing.T) {
	src := newSource()
	src.set("real", 1)
	c := instance(t, nil, Options{NegativeMB: 1, NegativeTTL: 200 * time.Millisecond})
	mustGet(t, c, "real", src)
	for range 3 {
		if e := mustGet(t, c, "ghost", src); !e.Missing {
			t.Fatalf("missing key answered %+v", e)
		}
	}
	if n := src.loads.Load(); n != 2 {
		t.Fatalf("loads = %d, want 2 (the real key and the ghost once)", n)
	}
	// A flood of unknown ids overflows the negative budget, not the real one.
	for i := range 20000 {
		mustGet(t, c, fmt.Sprintf("bogus-%d-%s", i, string(make([]byte, 64))), src)
	}
	before := src.loads.Load()
	mustGet(t, c, "real", src)
	if src.loads.Load() != before {
		t.Fatal("the real entry was evicted by negative entries")
	}
	// Negative entries expire (creation of the id becomes visible).
	src.set("ghost", 1)
	wait.For(t, wait.Limit, "the negative entry to expire", func() bool { return !mustGet(t, c, "ghost", src).Missing })
}

func TestCreationIsVisibleDespiteNegativeEntry(t *testing.T) {
	rdb, _ := redisNode(t)
	src := newSource()
	a, b := instance(t, rdb, Options{NegativeTTL: time.Hour}), instance(t, rdb, Options{NegativeTTL: time.Hour})
	if !mustGet(t, a, "new", src).Missing || !mustGet(t, b, "new", src).Missing {
		t.Fatal("want negative answers before creation")
	}
	src.set("new", 1)
	if err := a.Invalidate(context.Background(), "new", 1); err != nil {
		t.Fatal(err)
	}
	wait.For(t, wait.Limit, "B to hear of the creation", func() bool { return !mustGet(t, b, "new", src).Missing })
	if e := mustGet(t, a, "new", src); e.Missing || e.Version != 1 {
		t.Fatalf("A after creation = %+v", e)
	}
}

func TestServesStaleOnlyWithinTheBoundWhenTheSourceFails(t *testing.T) {
	reg := prometheus.NewRegistry()
	src := newSource()
	src.set("k", 3)
	c := instance(t, nil, Options{L1TTL: 50 * time.Millisecond, StaleFor: 300 * time.Millisecond, Registerer: reg})
	mustGet(t, c, "k", src)
	src.fail.Store(true)
	time.Sleep(60 * time.Millisecond) // past freshness, within the stale window
	e, err := c.Get(context.Background(), "k", src.loader("k"))
	if err != nil || !e.Stale || e.Version != 3 {
		t.Fatalf("within the stale window: %+v, %v", e, err)
	}
	if n := testutil.ToFloat64(c.m.staleServed); n != 1 {
		t.Fatalf("stale served metric = %v", n)
	}
	wait.For(t, wait.Limit, "the stale window to close", func() bool {
		_, err := c.Get(context.Background(), "k", src.loader("k"))
		return err != nil
	})
}

func TestRedisDownReadsFallBackToTheSource(t *testing.T) {
	rdb, node := redisNode(t)
	src := newSource()
	src.set("k", 1)
	c := instance(t, rdb, Options{})
	mustGet(t, c, "k", src)
	node.Stop()
	wait.For(t, wait.Limit, "L1 to stop trusting itself", func() bool { return !c.Following() })
	for range 5 {
		if e := mustGet(t, c, "k", src); e.Version != 1 {
			t.Fatalf("read with Redis down = %+v", e)
		}
	}
	if c.Healthy(context.Background()) == nil {
		t.Fatal("Healthy with Redis down")
	}
	if err := c.Invalidate(context.Background(), "k", 2); err == nil {
		t.Fatal("an invalidation that reached no L2 must fail (the write must not be acknowledged)")
	}
}

func TestFillOlderThanItsLeaseNeverWrites(t *testing.T) {
	rdb, _ := redisNode(t)
	src := newSource()
	src.set("k", 1)
	var once sync.Once
	c := instance(t, rdb, Options{FillLease: 100 * time.Millisecond, TombstoneTTL: time.Second})
	failpoint.Enable(t, failpoint.CacheBeforeL2Fill, func(scope any) error {
		if scope == c {
			once.Do(func() { time.Sleep(250 * time.Millisecond) }) // the fill outlives its lease
		}
		return nil
	})
	mustGet(t, c, "k", src)
	if _, l2v := c.Version(context.Background(), "k"); l2v != -1 {
		t.Fatalf("a fill that outlived its lease wrote L2 (v%d)", l2v)
	}
	if l1v, _ := c.Version(context.Background(), "k"); l1v != -1 {
		t.Fatalf("a fill that outlived its lease wrote L1 (v%d)", l1v)
	}
	if n := testutil.ToFloat64(c.m.rejected.WithLabelValues("l2_lease")); n != 1 {
		t.Fatalf("lease rejections = %v", n)
	}
}

// TestL2EntriesExpireInEmbeddedMode: the embedded Redis expires keys in real time.
func TestL2EntriesExpireInEmbeddedMode(t *testing.T) {
	s, err := redisembed.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr()})
	t.Cleanup(func() { rdb.Close() })
	src := newSource()
	src.set("k", 1)
	c := instance(t, rdb, Options{L2TTL: 300 * time.Millisecond, TombstoneTTL: 2 * time.Second, FillLease: 100 * time.Millisecond})
	mustGet(t, c, "k", src)
	if _, l2v := c.Version(context.Background(), "k"); l2v != 1 {
		t.Fatalf("L2 = %d after fill", l2v)
	}
	wait.For(t, wait.Limit, "the L2 entry to expire", func() bool { _, v := c.Version(context.Background(), "k"); return v == -1 })
}

func TestL1EnvelopeSurvivesHashCollisions(t *testing.T) {
	b := encodeL1("doc:a", l1Entry{version: 3, kind: kindValue, value: []byte("x")})
	if _, ok := decodeL1("doc:b", b); ok {
		t.Fatal("an entry stored for another key was accepted")
	}
	if e, ok := decodeL1("doc:a", b); !ok || e.version != 3 || string(e.value) != "x" {
		t.Fatalf("round trip = %+v %v", e, ok)
	}
	for _, bad := range [][]byte{nil, []byte("short"), b[:l1Fixed+2]} {
		if _, ok := decodeL1("doc:a", bad); ok {
			t.Fatalf("corrupt entry %q accepted", bad)
		}
	}
}

func TestOptionsRejectTombstonesShorterThanFills(t *testing.T) {
	if _, err := New(context.Background(), Options{FillLease: time.Minute, TombstoneTTL: time.Minute}); err == nil {
		t.Fatal("a tombstone that may expire before a fill lease ends was accepted")
	}
}
