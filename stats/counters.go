package stats

import (
	"context"
	"time"

	"gorm.io/gorm"

	"docplat/events"
)

type counts struct {
	views, downloads int64
	last             time.Time
}

// ApplyBatch adds a batch of one partition's access records to the
// counters (an event counts Access.N() times): one write per
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
					x.downloads += a.N()
				} else {
					x.views += a.N()
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
