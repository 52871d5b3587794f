package nginx

import (
	"context"
	"errors"
	"testing"

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
