package nginx

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"docplat/events"
	"docplat/hotspot"
	"docplat/internal/wait"
)

// TestEdgeSpeaksTheHotPathsTypes: the adapter the promoter and the hit
// forwarder use pushes, lists, purges and drains in hotspot's types; a
// refused stale push is hotspot.ErrStale, which the promoter skips.
func TestEdgeSpeaksTheHotPathsTypes(t *testing.T) {
	ctx := context.Background()
	app := &contentApp{name: "a", body: []byte("0123456789"), etag: `"e1"`, ctype: "text/plain", filename: "f"}
	tier := startContentTier(t, app, Config{})
	edge := Edge{Client: tier.client}
	e := app.entry("E1", 3, "public")
	c := hotspot.Content{ID: e.ID, Rev: 3, Version: e.Version, Visibility: e.Visibility, View: e.View, Download: e.Download, Body: e.Body}
	if err := edge.Push(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Rev = 2
	if err := edge.Push(ctx, c); !errors.Is(err, hotspot.ErrStale) {
		t.Fatalf("stale push = %v, want hotspot.ErrStale", err)
	}
	if l, err := edge.List(ctx); err != nil || len(l) != 1 || l[0] != (hotspot.EdgeEntry{ID: "E1", Rev: 3}) {
		t.Fatalf("List = %+v, %v", l, err)
	}
	fetch(t, "GET", tier.base+"/api/v1/documents/E1/content?download=1", nil)
	// nginx counts in the log phase, after the answer has gone out, and a
	// drain may fall between its count and its bytes: sum drains until the
	// hit is whole (hits.lua: the sums over drains are exact).
	var sum hotspot.Hit
	wait.For(t, wait.Limit, "the hit to be drained", func() bool {
		h, err := edge.DrainHits(ctx)
		if err != nil {
			t.Fatalf("DrainHits: %v", err)
		}
		for _, x := range h {
			if x.DocumentID != "E1" || x.Kind != "download" {
				t.Fatalf("DrainHits = %+v, want only E1's download", h)
			}
			sum.Count += x.Count
			sum.Bytes += x.Bytes
		}
		return sum.Count == 1 && sum.Bytes == 10
	})
	if err := edge.Purge(ctx, "E1", 3); err != nil {
		t.Fatal(err)
	}
	if l, err := edge.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("List after purge = %+v, %v", l, err)
	}
	if edge.Name() != tier.client.Admin {
		t.Fatalf("Name = %q", edge.Name())
	}
}

// publishedReads collects what ForwardHits publishes.
type publishedReads struct {
	mu     sync.Mutex
	counts map[string]int64
}

func (p *publishedReads) Publish(a events.Access) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[a.DocumentID+"/"+a.Kind] += a.Count
}

func (p *publishedReads) get(key string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[key]
}

// TestForwardHitsCountsTheEdgesReads: the forwarder drains a real hot
// tier's hits into access events and adds them up in
// docplat_hot_edge_hits_total (the dashboard's hot-tier share).
func TestForwardHitsCountsTheEdgesReads(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app := &contentApp{name: "a", body: []byte("0123456789"), etag: `"e1"`, ctype: "text/plain", filename: "f"}
	tier := startContentTier(t, app, Config{})
	if err := tier.client.Push(ctx, app.entry("F1", 1, "public")); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	counted, err := hotspot.NewEdgeHitsCounter(reg)
	if err != nil {
		t.Fatal(err)
	}
	pub := &publishedReads{counts: map[string]int64{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		hotspot.ForwardHits(ctx, []hotspot.HitSource{Edge{Client: tier.client}}, pub, "nginx", 20*time.Millisecond, counted, slog.New(slog.DiscardHandler))
	}()
	for range 4 {
		fetch(t, "GET", tier.base+"/api/v1/documents/F1/content", nil)
	}
	fetch(t, "GET", tier.base+"/api/v1/documents/F1/content?download=1", nil)
	wait.For(t, wait.Limit, "the five hits to be forwarded and counted", func() bool {
		return pub.get("F1/view") == 4 && pub.get("F1/download") == 1 && testutil.ToFloat64(counted) == 5
	})
	cancel()
	<-done
	if n, err := testutil.GatherAndCount(reg, "docplat_hot_edge_hits_total"); err != nil || n != 1 {
		t.Fatalf("docplat_hot_edge_hits_total gathered %d times (%v)", n, err)
	}
}
