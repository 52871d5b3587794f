package stats

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"docplat/events"
)

type counts struct {
	views, downloads int64
	last             time.Time
}

func (c *counts) add(a events.Access, at time.Time) {
	if a.Kind == "download" {
		c.downloads += a.N()
	} else {
		c.views += a.N()
	}
	if at.After(c.last) {
		c.last = at
	}
}

type hourKey struct {
	doc  string
	hour time.Time
}

// partTally is what one partition's records added since the last flush.
type partTally struct {
	from    int64 // the stored position when the tally started (-1: none)
	next    int64 // the position after the last record added
	perDoc  map[string]*counts
	perHour map[hourKey]*counts
}

// tally accumulates a consumer's records across polls, per partition, so
// that the database is written once per window instead of once per poll:
// one transaction adds every partition's counts (one row per document and
// per document-hour, in multi-row statements) and stores the partitions'
// positions with them. A crash loses only the tally, whose records are
// read again from the stored positions: counts stay exactly-once.
type tally struct {
	s        *Service
	consumer string
	mu       sync.Mutex
	parts    map[int]*partTally
}

func (s *Service) newTally(consumer string) *tally {
	return &tally{s: s, consumer: consumer, parts: map[int]*partTally{}}
}

// add counts recs of part, skipping records before the partition's
// position (already counted, stored or in this tally).
func (t *tally) add(ctx context.Context, part int, recs []events.Record) error {
	if len(recs) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.parts[part]
	if p == nil {
		stored, err := t.s.storedOffset(t.s.db.WithContext(ctx), t.consumer, part, false)
		if err != nil {
			return err
		}
		p = &partTally{from: stored, next: stored, perDoc: map[string]*counts{}, perHour: map[hourKey]*counts{}}
		t.parts[part] = p
	}
	for _, r := range recs {
		if r.Offset < p.next {
			continue // already counted
		}
		p.next = r.Offset + 1
		a := r.Access
		at := a.At.UTC()
		c := p.perDoc[a.DocumentID]
		if c == nil {
			c = &counts{}
			p.perDoc[a.DocumentID] = c
		}
		c.add(a, at)
		hk := hourKey{a.DocumentID, at.Truncate(time.Hour)}
		h := p.perHour[hk]
		if h == nil {
			h = &counts{}
			p.perHour[hk] = h
		}
		h.add(a, at)
	}
	return nil
}

// flushResult is what a flush did, for the metrics.
type flushResult struct {
	parts, docs, hours int
	// reread are partitions whose tally was dropped because another
	// member stored a position meanwhile: read again from there.
	reread map[int32]int64
}

// flush writes the tallies of parts (all when parts is nil) in one
// transaction. On error the tallies are kept for the next flush.
func (t *tally) flush(ctx context.Context, parts []int) (flushResult, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var res flushResult
	var todo []int
	for part, p := range t.parts {
		if (parts == nil || slices.Contains(parts, part)) && p.next > p.from {
			todo = append(todo, part)
		}
	}
	if len(todo) == 0 {
		return res, nil
	}
	slices.Sort(todo)
	var stale map[int]int64
	err := t.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		stale = map[int]int64{}
		var docRows []counterRow
		var hourRows []hourRow
		var offsets []offsetRow
		for _, part := range todo {
			p := t.parts[part]
			stored, err := t.s.storedOffset(tx, t.consumer, part, true)
			if err != nil {
				return err
			}
			if stored != p.from {
				// Another member counted this partition meanwhile (this
				// one lost it without noticing): its count stands.
				stale[part] = stored
				continue
			}
			for doc, c := range p.perDoc {
				docRows = append(docRows, counterRow{doc, c})
			}
			for k, h := range p.perHour {
				hourRows = append(hourRows, hourRow{k, h})
			}
			offsets = append(offsets, offsetRow{part, p.next})
		}
		// A stable order: concurrent writers lock rows in the same order.
		slices.SortFunc(docRows, func(a, b counterRow) int { return strings.Compare(a.doc, b.doc) })
		slices.SortFunc(hourRows, func(a, b hourRow) int {
			if c := strings.Compare(a.k.doc, b.k.doc); c != 0 {
				return c
			}
			return a.k.hour.Compare(b.k.hour)
		})
		if err := t.s.upsertCounters(tx, docRows); err != nil {
			return err
		}
		if err := t.s.upsertHours(tx, hourRows); err != nil {
			return err
		}
		res.docs, res.hours, res.parts = len(docRows), len(hourRows), len(offsets)
		return t.s.setOffsets(tx, t.consumer, offsets)
	})
	if err != nil {
		return flushResult{}, err
	}
	for _, part := range todo {
		p := t.parts[part]
		if stored, ok := stale[part]; ok {
			delete(t.parts, part)
			if res.reread == nil {
				res.reread = map[int32]int64{}
			}
			res.reread[int32(part)] = max(stored, 0)
			continue
		}
		// The next tally starts where this one was stored.
		t.parts[part] = &partTally{from: p.next, next: p.next, perDoc: map[string]*counts{}, perHour: map[hourKey]*counts{}}
	}
	return res, nil
}

// drop forgets the tallies of parts: a member that takes them over counts
// their records again from the stored positions.
func (t *tally) drop(parts []int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range parts {
		delete(t.parts, int(p))
	}
}

// pending is the number of documents the tallies hold.
func (t *tally) pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, p := range t.parts {
		n += len(p.perDoc)
	}
	return n
}

// ApplyBatch adds a batch of one partition's access records to the
// counters at once (an event counts Access.N() times): one write per
// document and per document-hour however many events the batch holds.
// The consumer's position is stored in the same transaction and records
// before it are skipped, so replaying a batch never counts twice.
// ConsumeStream does the same per window rather than per batch.
func (s *Service) ApplyBatch(ctx context.Context, consumer string, part int, recs []events.Record) error {
	t := s.newTally(consumer)
	if err := t.add(ctx, part, recs); err != nil {
		return err
	}
	res, err := t.flush(ctx, nil)
	if err == nil && len(res.reread) > 0 {
		return fmt.Errorf("stats: partition %d was counted by another member meanwhile", part)
	}
	return err
}

type counterRow struct {
	doc string
	c   *counts
}

type hourRow struct {
	k hourKey
	c *counts
}

type offsetRow struct {
	part int
	next int64
}

// rowsPerStatement bounds a multi-row statement's rows (SQLite allows
// 32766 parameters, MariaDB 65535).
const rowsPerStatement = 500

// multiRow runs head + n value tuples of width parameters + tail, in
// chunks.
func multiRow(tx *gorm.DB, head, tuple, tail string, n int, args func(i int) []any) error {
	for from := 0; from < n; from += rowsPerStatement {
		to := min(from+rowsPerStatement, n)
		var sb strings.Builder
		sb.WriteString(head)
		vals := make([]any, 0, (to-from)*4)
		for i := from; i < to; i++ {
			if i > from {
				sb.WriteByte(',')
			}
			sb.WriteString(tuple)
			vals = append(vals, args(i)...)
		}
		sb.WriteString(tail)
		if err := tx.Exec(sb.String(), vals...).Error; err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) upsertCounters(tx *gorm.DB, rows []counterRow) error {
	tail := ` ON CONFLICT (document_id) DO UPDATE SET views = views + excluded.views, downloads = downloads + excluded.downloads,
		last_access_at = MAX(COALESCE(last_access_at, excluded.last_access_at), excluded.last_access_at)`
	if s.mysql {
		tail = ` ON DUPLICATE KEY UPDATE views = views + VALUES(views), downloads = downloads + VALUES(downloads),
			last_access_at = GREATEST(COALESCE(last_access_at, VALUES(last_access_at)), VALUES(last_access_at))`
	}
	return multiRow(tx, `INSERT INTO document_counters (document_id, views, downloads, last_access_at) VALUES `, "(?, ?, ?, ?)", tail,
		len(rows), func(i int) []any { r := rows[i]; return []any{r.doc, r.c.views, r.c.downloads, r.c.last} })
}

func (s *Service) upsertHours(tx *gorm.DB, rows []hourRow) error {
	tail := ` ON CONFLICT (document_id, hour) DO UPDATE SET views = views + excluded.views, downloads = downloads + excluded.downloads`
	if s.mysql {
		tail = ` ON DUPLICATE KEY UPDATE views = views + VALUES(views), downloads = downloads + VALUES(downloads)`
	}
	return multiRow(tx, `INSERT INTO document_hourly (document_id, hour, views, downloads) VALUES `, "(?, ?, ?, ?)", tail,
		len(rows), func(i int) []any { r := rows[i]; return []any{r.k.doc, r.k.hour, r.c.views, r.c.downloads} })
}

func (s *Service) setOffsets(tx *gorm.DB, consumer string, rows []offsetRow) error {
	tail := ` ON CONFLICT (consumer, part) DO UPDATE SET next_offset = excluded.next_offset`
	if s.mysql {
		tail = ` ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset)`
	}
	return multiRow(tx, `INSERT INTO consumer_offsets (consumer, part, next_offset) VALUES `, "(?, ?, ?)", tail,
		len(rows), func(i int) []any { return []any{consumer, rows[i].part, rows[i].next} })
}

// storedOffset is the consumer's stored position of part, -1 if none;
// lock takes the row for the transaction (MariaDB; SQLite's writer
// transactions are serial already).
func (s *Service) storedOffset(db *gorm.DB, consumer string, part int, lock bool) (int64, error) {
	q := "SELECT next_offset FROM consumer_offsets WHERE consumer = ? AND part = ?"
	if lock && s.mysql {
		q += " FOR UPDATE"
	}
	var stored []int64
	if err := db.Raw(q, consumer, part).Scan(&stored).Error; err != nil {
		return 0, err
	}
	if len(stored) == 0 {
		return -1, nil
	}
	return stored[0], nil
}

// Offset is the consumer's committed position (0 if none).
func (s *Service) Offset(ctx context.Context, consumer string, part int) (int64, error) {
	off, err := s.storedOffset(s.db.WithContext(ctx), consumer, part, false)
	return max(off, 0), err
}
