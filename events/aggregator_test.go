package events_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"docplat/events"
)

type sink struct {
	mu  sync.Mutex
	got []events.Access
}

func (s *sink) Publish(a events.Access) { s.mu.Lock(); s.got = append(s.got, a); s.mu.Unlock() }

func (s *sink) sum() map[[2]string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[[2]string]int64{}
	for _, a := range s.got {
		out[[2]string{a.DocumentID, a.Kind}] += a.N()
	}
	return out
}

// TestAggregatorSumsPerDocumentAndKind: reads (some already aggregated)
// become one event per document and kind per window carrying their sum,
// the latest time and the aggregator's instance; the metrics count reads
// in and events out; the last window is published when Run ends.
func TestAggregatorSumsPerDocumentAndKind(t *testing.T) {
	var out sink
	reg := prometheus.NewRegistry()
	g, err := events.NewAggregator(&out, events.AggregatorConfig{Window: time.Hour, BurstCount: -1, Instance: "web-1", Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 250 {
				g.Publish(events.Access{DocumentID: "a", Kind: "view", Bytes: 10, At: t0.Add(time.Duration(w*250+i) * time.Millisecond)})
			}
		})
	}
	wg.Wait()
	g.Publish(events.Access{DocumentID: "a", Kind: "download", Count: 5})
	g.Publish(events.Access{DocumentID: "b", Kind: "view", Instance: "nginx"})
	cancel() // the hour-long window is published at the stop
	<-done
	want := map[[2]string]int64{{"a", "view"}: 1000, {"a", "download"}: 5, {"b", "view"}: 1}
	if got := out.sum(); len(got) != len(want) || got[[2]string{"a", "view"}] != 1000 || got[[2]string{"a", "download"}] != 5 || got[[2]string{"b", "view"}] != 1 {
		t.Fatalf("published %v, want %v", got, want)
	}
	if len(out.got) != 3 {
		t.Fatalf("%d events, want one per document and kind: %+v", len(out.got), out.got)
	}
	for _, a := range out.got {
		if a.Instance != "web-1" {
			t.Errorf("instance %q, want web-1", a.Instance)
		}
		if a.DocumentID == "a" && a.Kind == "view" && (a.Bytes != 10000 || !a.At.Equal(t0.Add(999*time.Millisecond))) {
			t.Errorf("a/view: %d bytes at %v; want 10000 at the latest read", a.Bytes, a.At)
		}
	}
	if n := counterValue(t, reg, "docplat_access_aggregated_total"); n != 1006 {
		t.Errorf("aggregated_total %g, want 1006", n)
	}
	if n := counterValue(t, reg, "docplat_access_aggregated_events_total"); n != 3 {
		t.Errorf("aggregated_events_total %g, want 3", n)
	}
}

// TestAggregatorPublishesEarlyWhenFull: reaching MaxKeys publishes the
// window without waiting for its end.
func TestAggregatorPublishesEarlyWhenFull(t *testing.T) {
	var out sink
	g, err := events.NewAggregator(&out, events.AggregatorConfig{Window: time.Hour, MaxKeys: 10})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go g.Run(ctx)
	for i := range 10 {
		g.Publish(events.Access{DocumentID: string(rune('a' + i)), Kind: "view"})
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(out.sum()) < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 10 documents published before the hour-long window ended", len(out.sum()))
		}
		time.Sleep(time.Millisecond)
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			sum := 0.0 // over every label
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestAggregatorPublishesBurstsEarly: a document crossing BurstCount goes
// out within milliseconds while a cold one waits for the window; bursts
// go out at most once per BurstInterval, together; every read is counted
// exactly once across the early and the windowed publications.
func TestAggregatorPublishesBurstsEarly(t *testing.T) {
	var out sink
	reg := prometheus.NewRegistry()
	const window, every = 3 * time.Second, time.Second
	g, err := events.NewAggregator(&out, events.AggregatorConfig{Window: window, BurstCount: 10, BurstInterval: every, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	start := time.Now()
	g.Publish(events.Access{DocumentID: "cold", Kind: "view"})
	for range 10 {
		g.Publish(events.Access{DocumentID: "hot", Kind: "view"})
	}
	waitFor := func(what string, ok func(map[[2]string]int64) bool) time.Duration {
		t.Helper()
		for !ok(out.sum()) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%s: published %v", what, out.sum())
			}
			time.Sleep(time.Millisecond)
		}
		return time.Since(start)
	}
	if d := waitFor("the burst", func(m map[[2]string]int64) bool { return m[[2]string{"hot", "view"}] == 10 }); d > window/2 {
		t.Fatalf("the burst was published after %v, not at once", d)
	}
	if n := out.sum()[[2]string{"cold", "view"}]; n != 0 {
		t.Fatalf("the cold document went out with the burst (%d)", n)
	}
	// Two more documents cross within the cool-down: one round at its end.
	for range 12 {
		g.Publish(events.Access{DocumentID: "hot2", Kind: "view"})
	}
	time.Sleep(50 * time.Millisecond)
	if n := out.sum()[[2]string{"hot2", "view"}]; n != 0 && time.Since(start) < every {
		t.Fatalf("a second burst went out %v after the first, within the %v cool-down", time.Since(start), every)
	}
	for range 12 {
		g.Publish(events.Access{DocumentID: "hot", Kind: "download"})
	}
	waitFor("the second bursts", func(m map[[2]string]int64) bool {
		return m[[2]string{"hot2", "view"}] == 12 && m[[2]string{"hot", "download"}] == 12
	})
	if d := waitFor("the window", func(m map[[2]string]int64) bool { return m[[2]string{"cold", "view"}] == 1 }); d < window-100*time.Millisecond {
		t.Fatalf("the cold document was published after %v, before its %v window", d, window)
	}
	g.Publish(events.Access{DocumentID: "hot", Kind: "view", Count: 3}) // under the count: waits for the stop
	cancel()
	<-done
	want := map[[2]string]int64{{"cold", "view"}: 1, {"hot", "view"}: 13, {"hot2", "view"}: 12, {"hot", "download"}: 12}
	got := out.sum()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%v: %d published, want %d", k, got[k], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("published %v, want %v", got, want)
	}
	if n := counterValue(t, reg, "docplat_access_aggregated_total"); n != 38 {
		t.Errorf("aggregated_total %g, want 38", n)
	}
	// hot (early), hot2 + hot/download (one round after the cool-down),
	// cold (window), hot/view remainder (stop).
	if n := len(out.got); n != 5 {
		t.Errorf("%d events, want 5: %+v", n, out.got)
	}
}

// TestAggregatorIdleWindowStartsWithFirstRead: the window is counted from
// the first read after an idle spell, not from a free-running ticker.
func TestAggregatorIdleWindowStartsWithFirstRead(t *testing.T) {
	var out sink
	const window = 300 * time.Millisecond
	g, err := events.NewAggregator(&out, events.AggregatorConfig{Window: window, BurstCount: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go g.Run(ctx)
	for round := range 2 {
		time.Sleep(window + window/2) // idle: a ticker would be mid-window now
		start := time.Now()
		g.Publish(events.Access{DocumentID: "a", Kind: "view"})
		for len(out.sum()) == 0 || out.sum()[[2]string{"a", "view"}] != int64(round+1) {
			if time.Since(start) > 10*time.Second {
				t.Fatal("never published")
			}
			time.Sleep(time.Millisecond)
		}
		if d := time.Since(start); d < window-20*time.Millisecond {
			t.Fatalf("round %d: published %v after the read, before a whole window (%v)", round, d, window)
		}
	}
}

// BenchmarkAggregatorPublish is what a read pays to be counted: Publish
// into the aggregator, 200 documents, with Run publishing to a sink.
func BenchmarkAggregatorPublish(b *testing.B) {
	var out sink
	g, err := events.NewAggregator(&out, events.AggregatorConfig{Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go g.Run(ctx)
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = "0123456789abcdef0123456789abcd" + string(rune('A'+i%26)) + string(rune('a'+i/26))
	}
	at := time.Now()
	i := 0
	for b.Loop() {
		g.Publish(events.Access{DocumentID: ids[i%len(ids)], Kind: "view", Bytes: 10240, At: at})
		i++
	}
}

// TestAggregatorKeepsAuditedReadersApart: reads carrying a Reader (those
// the audit log records) are summed per reader and keep it; anonymous
// reads of the same document are summed apart from them, without one.
func TestAggregatorKeepsAuditedReadersApart(t *testing.T) {
	var out sink
	g, err := events.NewAggregator(&out, events.AggregatorConfig{Window: time.Hour, BurstCount: -1})
	if err != nil {
		t.Fatal(err)
	}
	u1 := events.Reader{ActorID: "u1", IP: "10.0.0.1", Visibility: "private"}
	u2 := events.Reader{ActorID: "u2", IP: "10.0.0.2", Visibility: "private"}
	for range 3 {
		r1, r2 := u1, u2
		g.Publish(events.Access{DocumentID: "p", Kind: "download", Bytes: 5, Reader: &r1})
		g.Publish(events.Access{DocumentID: "p", Kind: "download", Bytes: 5, Reader: &r2})
		g.Publish(events.Access{DocumentID: "p", Kind: "download", Bytes: 5})
	}
	g.Flush()
	if len(out.got) != 3 {
		t.Fatalf("%d events, want one per reader and one anonymous: %+v", len(out.got), out.got)
	}
	seen := map[string]int64{}
	for _, a := range out.got {
		who := ""
		if a.Reader != nil {
			who = a.Reader.ActorID
			if want := map[string]events.Reader{"u1": u1, "u2": u2}[who]; *a.Reader != want {
				t.Errorf("reader %+v, want %+v", *a.Reader, want)
			}
		}
		seen[who] += a.N()
	}
	if seen["u1"] != 3 || seen["u2"] != 3 || seen[""] != 3 {
		t.Fatalf("sums per reader %v, want 3 each", seen)
	}
}
