package docs

import (
	"context"
	"time"

	"docplat/audit"
	"docplat/events"
)

// Access kinds counted per document.
const (
	AccessView     = "view"
	AccessDownload = "download"
)

// RecordAccess counts a read: in memory for the listing's views sort (Run
// flushes them every interval, one statement for all documents), and on
// the access stream that the stats service and the hot-document detector
// consume (the publisher sums reads per document over a short window
// before anything leaves the process). Neither blocks.
func (s *Service) RecordAccess(id, kind string, bytes int64) {
	s.recordAccess(id, kind, bytes, nil)
}

// RecordContentRead counts a read of d's content by who, as RecordAccess,
// and when d is not public names the reader on the access stream, from
// which the audit log records the download (package audit): the read path
// itself writes nothing. The reader's IP is the context's audit.Origin's.
func (s *Service) RecordContentRead(ctx context.Context, who Actor, d Document, kind string, bytes int64) {
	var r *events.Reader
	if d.Visibility != Public {
		r = &events.Reader{ActorID: who.UserID, IP: audit.OriginFrom(ctx).IP, Visibility: string(d.Visibility), DepartmentID: d.DepartmentID}
	}
	s.recordAccess(d.ID, kind, bytes, r)
}

// RecordShareRead counts a read of d's content through the share link
// shareID, naming the link on the access stream whatever d's visibility:
// the audit log records it as the link's download.
func (s *Service) RecordShareRead(ctx context.Context, shareID string, d Document, kind string, bytes int64) {
	r := &events.Reader{IP: audit.OriginFrom(ctx).IP, Visibility: string(d.Visibility), DepartmentID: d.DepartmentID, ShareID: shareID}
	s.recordAccess(d.ID, kind, bytes, r)
}

func (s *Service) recordAccess(id, kind string, bytes int64, r *events.Reader) {
	if s.opt.Access != nil {
		s.opt.Access.Publish(events.Access{DocumentID: id, Kind: kind, Bytes: bytes, At: s.now(), Instance: s.opt.Instance, Reader: r})
	}
	s.mu.Lock()
	c := s.counts[id]
	if kind == AccessDownload {
		c.Downloads++
	} else {
		c.Views++
	}
	s.counts[id] = c
	s.mu.Unlock()
}

// FlushCounts writes the pending access counts.
func (s *Service) FlushCounts(ctx context.Context) error {
	s.mu.Lock()
	pending := s.counts
	s.counts = map[string]Counts{}
	s.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	if err := s.repo.AddCounts(ctx, pending); err != nil {
		// Put them back so that a database hiccup loses nothing.
		s.mu.Lock()
		for id, c := range pending {
			cur := s.counts[id]
			s.counts[id] = Counts{Views: cur.Views + c.Views, Downloads: cur.Downloads + c.Downloads}
		}
		s.mu.Unlock()
		return err
	}
	return nil
}

// Run flushes access counts every interval and collects garbage every
// gcInterval until ctx ends, then flushes once more.
func (s *Service) Run(ctx context.Context, interval, gcInterval time.Duration) {
	flush := time.NewTicker(interval)
	defer flush.Stop()
	gc := time.NewTicker(gcInterval)
	defer gc.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.FlushCounts(fctx); err != nil {
				s.log.Error("flushing access counts at shutdown", "err", err)
			}
			cancel()
			return
		case <-flush.C:
			if err := s.FlushCounts(ctx); err != nil {
				s.log.Warn("flushing access counts", "err", err)
			}
		case <-gc.C:
			// Purged documents' blobs are then collected in the same round
			// (once older than the blob grace).
			s.purgeRound(ctx)
			if _, err := s.CollectGarbage(ctx); err != nil {
				s.log.Warn("collecting garbage", "err", err)
			}
		}
	}
}
