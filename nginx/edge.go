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
	err := e.Client.Push(ctx, Entry{ID: c.ID, Rev: int64(c.Rev), Version: c.Version, Visibility: c.Visibility, NotBefore: c.NotBefore,
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
	return converted(listed, err, func(l Listed) hotspot.EdgeEntry { return hotspot.EdgeEntry{ID: l.ID, Rev: int(l.Rev)} })
}

// DrainHits takes the hot tier's reads since the last drain.
func (e Edge) DrainHits(ctx context.Context) ([]hotspot.Hit, error) {
	hits, err := e.Client.DrainHits(ctx)
	return converted(hits, err, func(h Hit) hotspot.Hit {
		return hotspot.Hit{DocumentID: h.DocumentID, Kind: h.Kind, Count: h.Count, Bytes: h.Bytes}
	})
}

// converted is what the client answered in the hot path's types, or its error.
func converted[T, U any](in []T, err error, f func(T) U) ([]U, error) {
	if err != nil {
		return nil, err
	}
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out, nil
}

var (
	_ hotspot.Edge      = Edge{}
	_ hotspot.HitSource = Edge{}
)
