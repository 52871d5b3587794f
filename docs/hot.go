package docs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"docplat/blob"
	"docplat/contentpolicy"
	"docplat/hotspot"
)

// ContentPolicy is what the headers of version v of d are decided from,
// for the app's answer and the hot tier's alike.
func ContentPolicy(d Document, v Version) contentpolicy.Content {
	return contentpolicy.Content{SHA256: v.SHA256, Mime: v.Mime, Filename: v.Filename, Public: d.Visibility == Public, Modified: v.CreatedAt}
}

// currentVersion is d's current version as its row describes it.
func currentVersion(d Document) Version {
	return Version{DocumentID: d.ID, Version: d.Version, Size: d.Size, SHA256: d.SHA256, Mime: d.Mime, Filename: d.Filename, CreatedAt: d.UpdatedAt}
}

// HotSource reads documents for the nginx hot tier (a hotspot.Source):
// straight from the store and the blob store, never through a cache (see
// hotspot.Promoter), with the headers ContentPolicy decides. Documents that
// are gone or larger than the hot tier takes are hotspot.ErrNotPromotable.
type HotSource struct {
	repo     Store
	blobs    *blob.Store
	maxBytes int64
}

// NewHotSource reads from repo, which must be the store itself (not
// WithCache's decoration), and blobs; maxBytes is the largest content the
// hot tier holds.
func NewHotSource(repo Store, blobs *blob.Store, maxBytes int64) *HotSource {
	return &HotSource{repo: repo, blobs: blobs, maxBytes: maxBytes}
}

// HotRevision is the document's current metadata revision.
func (s *HotSource) HotRevision(ctx context.Context, id string) (int, error) {
	d, err := s.row(ctx, id)
	return d.Revision, err
}

// HotContent is the document's current bytes and every header of the app's
// answer to a view and to a download of them.
func (s *HotSource) HotContent(ctx context.Context, id string) (hotspot.Content, error) {
	d, err := s.row(ctx, id)
	if err != nil {
		return hotspot.Content{}, err
	}
	f, err := s.blobs.Open(d.SHA256)
	if err != nil {
		return hotspot.Content{}, err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, d.Size+1))
	if err != nil {
		return hotspot.Content{}, err
	}
	if int64(len(body)) != d.Size {
		return hotspot.Content{}, fmt.Errorf("blob %s of document %s has %d bytes, the row says %d", d.SHA256, id, len(body), d.Size)
	}
	p := ContentPolicy(d, currentVersion(d))
	c := hotspot.Content{ID: d.ID, Rev: d.Revision, Version: d.Version, Visibility: string(d.Visibility),
		View: p.Header(false), Download: p.Header(true), Body: body}
	if d.PublishAt != nil {
		// Pushed ahead of its publication, served from then on: a change
		// of publish_at is a new revision, which purges and re-pushes.
		c.NotBefore = *d.PublishAt
	}
	return c, nil
}

// DueForWarming lists the documents handed out (Document.WarmAt) within
// [from, to] that the hot tier can hold: the pre-warmer's schedule.
func (s *HotSource) DueForWarming(ctx context.Context, from, to time.Time) ([]hotspot.Scheduled, error) {
	ds, err := s.repo.Scheduled(ctx, from, to)
	if err != nil {
		return nil, err
	}
	var out []hotspot.Scheduled
	for _, d := range ds {
		at := d.WarmAt()
		if at.Before(from) || at.After(to) || d.Size > s.maxBytes {
			continue // its other time is outside the window: not yet, or long past
		}
		out = append(out, hotspot.Scheduled{ID: d.ID, WarmAt: at})
	}
	return out, nil
}

// row is the document's row, or ErrNotPromotable when the edge must not
// hold it (gone, or larger than the hot tier takes).
func (s *HotSource) row(ctx context.Context, id string) (Document, error) {
	d, err := s.repo.Get(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && d.Trashed() {
		return Document{}, hotspot.ErrNotPromotable
	}
	if err != nil {
		return Document{}, err
	}
	if d.Size > s.maxBytes {
		return Document{}, hotspot.ErrNotPromotable
	}
	return d, nil
}
