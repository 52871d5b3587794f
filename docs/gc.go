package docs

import (
	"context"
	"errors"
	"time"

	"docplat/blob"
)

// GCReport says what a garbage collection removed.
type GCReport struct {
	TempFiles int // staging leftovers of interrupted uploads
	Blobs     int // blobs no version references
	// Derived: blobs whose derived files (previews) outlived them and were
	// removed after (a collected blob's go with it, counted in Blobs).
	Derived       int
	SearchOrphans int64 // index entries of rolled-back transactions
}

// Collector removes what no document references any more. It needs only
// the Store: a maintenance command collects without the write path.
type Collector struct {
	store Store
	blobs *blob.Store
	opt   Options
}

// NewCollector returns a collector over store and blobs (opt.BlobGrace,
// opt.Logger and opt.Now are what it uses).
func NewCollector(store Store, blobs *blob.Store, opt Options) *Collector {
	return &Collector{store: store, blobs: blobs, opt: opt.withDefaults()}
}

// CollectGarbage is the service's Collector.CollectGarbage.
func (s *Service) CollectGarbage(ctx context.Context) (GCReport, error) {
	return (&Collector{store: s.repo, blobs: s.blobs, opt: s.opt}).CollectGarbage(ctx)
}

// CollectGarbage removes staging leftovers and blobs that no version
// references, once they are older than the grace period (so that an upload
// in flight is never robbed of its blob).
func (s *Collector) CollectGarbage(ctx context.Context) (GCReport, error) {
	var r GCReport
	var errs []error
	n, err := s.blobs.CleanTemp(s.opt.BlobGrace)
	r.TempFiles = n
	errs = append(errs, err)

	cutoff := s.opt.Now().Add(-s.opt.BlobGrace)
	var candidates []string
	errs = append(errs, s.blobs.Walk(func(sha string, _ int64, mod time.Time) error {
		if mod.Before(cutoff) {
			candidates = append(candidates, sha)
		}
		return ctx.Err()
	}))
	for _, sha := range candidates {
		// Derived files first: a failure then leaves the blob, and both
		// are collected next time; the other way round would leave
		// derived files of no blob (the sweep below would take them).
		removed, err := s.store.CollectBlob(ctx, sha, cutoff, func() error {
			return errors.Join(s.blobs.RemoveDerived(sha), s.blobs.Remove(sha))
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if removed {
			r.Blobs++
		}
	}
	// Derived files of no blob: made for a blob collected meanwhile (a
	// preview generated while its document was deleted). Those of a blob
	// that exists are never touched here, nor ones younger than the grace
	// period (the blob of an upload may not be published yet).
	var orphans []string
	errs = append(errs, s.blobs.WalkDerived(func(sha string, mod time.Time) error {
		if mod.Before(cutoff) {
			if _, _, err := s.blobs.Stat(sha); errors.Is(err, blob.ErrNotFound) {
				orphans = append(orphans, sha)
			}
		}
		return ctx.Err()
	}))
	for _, sha := range orphans {
		if err := s.blobs.RemoveDerived(sha); err != nil {
			errs = append(errs, err)
			continue
		}
		r.Derived++
	}
	r.SearchOrphans, err = s.store.PurgeSearchOrphans(ctx)
	errs = append(errs, err)
	if r.TempFiles+r.Blobs+r.Derived > 0 || r.SearchOrphans > 0 {
		s.opt.Logger.InfoContext(ctx, "garbage collected", "temp_files", r.TempFiles, "blobs", r.Blobs, "derived", r.Derived, "search_orphans", r.SearchOrphans)
	}
	return r, errors.Join(errs...)
}
