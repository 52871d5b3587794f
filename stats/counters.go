package stats

import (
	"context"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"docplat/events"
)

// Source is where access events come from: the in-process log now, a Kafka
// partition once the access stream exists. Offsets are the consumer's to keep.
type Source interface {
	Read(from int64, max int) (recs []events.Record, next int64, lost int64)
	Wait(offset int64, timeout time.Duration)
}

type counts struct {
	views, downloads int64
	last             time.Time
}

// ApplyBatch adds a batch of access records to the counters: one write per
// document (and per document-hour) however many events the batch holds. The
// consumer's position is stored in the same transaction and records before
// it are skipped, so replaying a batch never counts twice.
func (s *Service) ApplyBatch(ctx context.Context, consumer string, part int, recs []events.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var stored []int64
		if err := tx.Raw("SELECT next_offset FROM consumer_offsets WHERE consumer = ? AND part = ?", consumer, part).Scan(&stored).Error; err != nil {
			return err
		}
		from := int64(-1)
		if len(stored) > 0 {
			from = stored[0]
		}
		perDoc := map[string]*counts{}
		type hourKey struct {
			doc  string
			hour time.Time
		}
		perHour := map[hourKey]*counts{}
		end := from
		for _, r := range recs {
			if r.Offset < from {
				continue // already applied
			}
			end = max(end, r.Offset+1)
			a := r.Access
			at := a.At.UTC()
			c := perDoc[a.DocumentID]
			if c == nil {
				c = &counts{}
				perDoc[a.DocumentID] = c
			}
			hk := hourKey{a.DocumentID, at.Truncate(time.Hour)}
			h := perHour[hk]
			if h == nil {
				h = &counts{}
				perHour[hk] = h
			}
			for _, x := range []*counts{c, h} {
				if a.Kind == "download" {
					x.downloads++
				} else {
					x.views++
				}
				if at.After(x.last) {
					x.last = at
				}
			}
		}
		if len(perDoc) == 0 {
			return nil
		}
		for doc, c := range perDoc {
			if err := s.upsertCounter(tx, doc, c); err != nil {
				return err
			}
		}
		for k, h := range perHour {
			if err := s.upsertHour(tx, k.doc, k.hour, h); err != nil {
				return err
			}
		}
		return s.setOffset(tx, consumer, part, end)
	})
}

func (s *Service) upsertCounter(tx *gorm.DB, doc string, c *counts) error {
	if s.mysql {
		return tx.Exec(`INSERT INTO document_counters (document_id, views, downloads, last_access_at) VALUES (?, ?, ?, ?)
			ON DUPLICATE KEY UPDATE views = views + VALUES(views), downloads = downloads + VALUES(downloads),
			last_access_at = GREATEST(COALESCE(last_access_at, VALUES(last_access_at)), VALUES(last_access_at))`,
			doc, c.views, c.downloads, c.last).Error
	}
	return tx.Exec(`INSERT INTO document_counters (document_id, views, downloads, last_access_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (document_id) DO UPDATE SET views = views + excluded.views, downloads = downloads + excluded.downloads,
		last_access_at = MAX(COALESCE(last_access_at, excluded.last_access_at), excluded.last_access_at)`,
		doc, c.views, c.downloads, c.last).Error
}

func (s *Service) upsertHour(tx *gorm.DB, doc string, hour time.Time, c *counts) error {
	if s.mysql {
		return tx.Exec(`INSERT INTO document_hourly (document_id, hour, views, downloads) VALUES (?, ?, ?, ?)
			ON DUPLICATE KEY UPDATE views = views + VALUES(views), downloads = downloads + VALUES(downloads)`,
			doc, hour, c.views, c.downloads).Error
	}
	return tx.Exec(`INSERT INTO document_hourly (document_id, hour, views, downloads) VALUES (?, ?, ?, ?)
		ON CONFLICT (document_id, hour) DO UPDATE SET views = views + excluded.views, downloads = downloads + excluded.downloads`,
		doc, hour, c.views, c.downloads).Error
}

func (s *Service) setOffset(tx *gorm.DB, consumer string, part int, next int64) error {
	if s.mysql {
		return tx.Exec(`INSERT INTO consumer_offsets (consumer, part, next_offset) VALUES (?, ?, ?)
			ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset)`, consumer, part, next).Error
	}
	return tx.Exec(`INSERT INTO consumer_offsets (consumer, part, next_offset) VALUES (?, ?, ?)
		ON CONFLICT (consumer, part) DO UPDATE SET next_offset = excluded.next_offset`, consumer, part, next).Error
}

// Offset is the consumer's committed position (0 if none).
func (s *Service) Offset(ctx context.Context, consumer string, part int) (int64, error) {
	var stored []int64
	err := s.db.WithContext(ctx).Raw("SELECT next_offset FROM consumer_offsets WHERE consumer = ? AND part = ?", consumer, part).Scan(&stored).Error
	if len(stored) == 0 {
		return 0, err
	}
	return stored[0], err
}

// Sink is where batches of access records are counted: the stats Service
// itself, or a Client reaching a stats process.
type Sink interface {
	ApplyBatch(ctx context.Context, consumer string, part int, recs []events.Record) error
	Offset(ctx context.Context, consumer string, part int) (int64, error)
}

var _ Sink = (*Service)(nil)

// Forward reads src from the sink's committed position for consumer in
// batches of up to batch records (or whatever arrived within linger) and
// applies them, until ctx ends. A failed batch is retried from the same
// position; the sink's offset bookkeeping makes the retry count once.
func Forward(ctx context.Context, src Source, sink Sink, consumer string, batch int, linger time.Duration, log *slog.Logger) {
	var pos int64
	for {
		var err error
		if pos, err = sink.Offset(ctx, consumer, 0); err == nil || ctx.Err() != nil {
			break
		}
		log.Warn("reading the counters' position; retrying", "err", err)
		sleepCtx(ctx, time.Second)
	}
	for ctx.Err() == nil {
		src.Wait(pos, linger)
		recs, next, lost := src.Read(pos, batch)
		if lost > 0 {
			log.Warn("access events lost before they were counted (the log overflowed)", "count", lost)
		}
		if len(recs) == 0 {
			pos = next
			continue
		}
		if err := sink.ApplyBatch(ctx, consumer, 0, recs); err != nil {
			log.Warn("applying a batch of access events; will retry", "err", err, "from", recs[0].Offset)
			sleepCtx(ctx, time.Second)
			continue
		}
		pos = next
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// Consume is Forward into this service.
func (s *Service) Consume(ctx context.Context, src Source, consumer string, batch int, linger time.Duration) {
	Forward(ctx, src, s, consumer, batch, linger, s.log)
}
