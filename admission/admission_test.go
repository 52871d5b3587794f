package admission

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"docplat/internal/wait"
)

func TestAClassOverItsBoundIsShedWhileOthersAreAdmitted(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := New(Config{Search: {Concurrency: 2, MaxWait: 50 * time.Millisecond, Queue: 1}}, reg)
	ctx := context.Background()
	var held []func()
	for range 2 {
		release, err := c.Admit(ctx, Search)
		if err != nil {
			t.Fatalf("within the limit: %v", err)
		}
		held = append(held, release)
	}
	// Third search: waits its bound, then is shed; meanwhile a fourth
	// finds the queue full and is shed at once.
	waiterDone := make(chan error, 1)
	go func() { _, err := c.Admit(ctx, Search); waiterDone <- err }()
	wait.For(t, 5*time.Second, "the condition", func() bool { return testutil.ToFloat64(c.m.waiting.WithLabelValues("search")) == 1 })
	_, err := c.Admit(ctx, Search)
	var shed *ShedError
	if !errors.As(err, &shed) || shed.Reason != "queue_full" || shed.Class != Search || !errors.Is(err, ErrShed) {
		t.Fatalf("fourth search: %v, want shed (queue_full)", err)
	}
	if err := <-waiterDone; !errors.As(err, &shed) || shed.Reason != "wait_bound" {
		t.Fatalf("third search: %v, want shed (wait_bound)", err)
	}
	// Reads are not limited: a thousand at once while searches are full.
	for range 1000 {
		release, err := c.Admit(ctx, Read)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		defer release()
	}
	// A waiter is admitted as soon as a slot frees, within its bound.
	go func() { _, err := c.Admit(ctx, Search); waiterDone <- err }()
	wait.For(t, 5*time.Second, "the condition", func() bool { return testutil.ToFloat64(c.m.waiting.WithLabelValues("search")) == 1 })
	held[0]()
	held[0]() // releasing twice frees one slot only
	if err := <-waiterDone; err != nil {
		t.Fatalf("waiter after a release: %v", err)
	}
	if _, err := c.Admit(ctx, Search); !errors.Is(err, ErrShed) {
		t.Fatalf("a double release freed two slots: %v", err)
	}
	if got := testutil.ToFloat64(c.m.shed.WithLabelValues("search", "queue_full")); got != 1 {
		t.Errorf("shed queue_full = %v", got)
	}
	if got := testutil.ToFloat64(c.m.shed.WithLabelValues("search", "wait_bound")); got != 2 {
		t.Errorf("shed wait_bound = %v", got)
	}
	if got := testutil.ToFloat64(c.m.inFlight.WithLabelValues("read")); got != 1000 {
		t.Errorf("reads in flight = %v", got)
	}
	if got := testutil.ToFloat64(c.m.admittedN.WithLabelValues("search")); got != 3 {
		t.Errorf("searches admitted = %v", got)
	}
}

func TestAWaiterWhoseClientLeavesIsNotAdmitted(t *testing.T) {
	c := New(Config{Write: {Concurrency: 1, MaxWait: time.Minute}}, nil)
	release, err := c.Admit(context.Background(), Write)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := c.Admit(ctx, Write); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	wg.Wait()
}

func TestDefaultsLimitEveryClassButReads(t *testing.T) {
	d := Defaults(2)
	for _, class := range Classes {
		l := d[class]
		if class == Read {
			if l.Concurrency != 0 {
				t.Errorf("reads are limited: %+v", l)
			}
			continue
		}
		if l.Concurrency < 1 || l.MaxWait <= 0 || l.Queue < l.Concurrency {
			t.Errorf("%s: %+v", class, l)
		}
	}
	if d[Search].MaxWait > d[Write].MaxWait {
		t.Error("searches wait longer than writes")
	}
}

func TestParseOverridesDefaults(t *testing.T) {
	got, err := Parse("search=4/300ms, write=8/2s/100,login=0", Defaults(2))
	if err != nil {
		t.Fatal(err)
	}
	if got[Search] != (Limit{Concurrency: 4, MaxWait: 300 * time.Millisecond}) ||
		got[Write] != (Limit{Concurrency: 8, MaxWait: 2 * time.Second, Queue: 100}) ||
		got[Login] != (Limit{}) || got[Admin] != Defaults(2)[Admin] {
		t.Fatalf("got %+v", got)
	}
	for _, bad := range []string{"searches=1/1s", "search=1", "search=x/1s", "search=1/soon", "write=1/1s/0", "read"} {
		if _, err := Parse(bad, Defaults(2)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
