package nginx

import (
	"context"
	"errors"

	"docplat/hotspot"
)

// Edge is one nginx's hot tier as the hot-document path drives it: a
// hotspot.Edge for the promoter and a hotspot.HitSource for the hit
// forwarder.
type Edge struct{ Client *Client }

// Name is the admin URL, which names the edge in logs and metrics.
func (e Edge) Name() string { return e.Client.Admin }

// Push stores c as the document's hot entry (hotspot.ErrStale: something
// newer got there first).
func (e Edge) Push(ctx context.Context, c hotspot.Content) error {
	err := e.Client.Push(ctx, Entry{ID: c.ID, Rev: int64(c.Rev), Version: c.Version, Visibility: c.Visibility,
		View: c.View, Download: c.Download, Body: c.Body})
	if errors.Is(err, ErrStale) {
		return hotspot.ErrStale
	}
	return err
}

// Purge evicts the entry at revision rev or older (see Client.Purge).
func (e Edge) Purge(ctx context.Context, id string, rev int) error {
	return e.Client.Purge(ctx, id, int64(rev))
}

// List is what the hot tier holds.
func (e Edge) List(ctx context.Context) ([]hotspot.EdgeEntry, error) {
	listed, err := e.Client.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]hotspot.EdgeEntry, len(listed))
	for i, l := range listed {
		out[i] = hotspot.EdgeEntry{ID: l.ID, Rev: int(l.Rev)}
	}
	return out, nil
}

// DrainHits takes the hot tier's reads since the last drain.
func (e Edge) DrainHits(ctx context.Context) ([]hotspot.Hit, error) {
	hits, err := e.Client.DrainHits(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]hotspot.Hit, len(hits))
	for i, h := range hits {
		out[i] = hotspot.Hit{DocumentID: h.DocumentID, Kind: h.Kind, Count: h.Count, Bytes: h.Bytes}
	}
	return out, nil
}

var (
	_ hotspot.Edge      = Edge{}
	_ hotspot.HitSource = Edge{}
)
