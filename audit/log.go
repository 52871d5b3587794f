package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"docplat/internal/envflag"
	"docplat/internal/periodic"
)

// Options configure a Log.
type Options struct {
	// Retention is how long entries are kept; the purge removes older ones.
	Retention time.Duration
	// PurgeBatch bounds the rows one purge statement deletes, so a first
	// purge of a long history never holds a long lock; default 1000.
	PurgeBatch int
	Logger     *slog.Logger
}

// DefaultRetention is a year.
const DefaultRetention = 365 * 24 * time.Hour

// Bind declares the audit log's flags onto o.
func (o *Options) Bind(b *envflag.Set) {
	b.Duration(&o.Retention, "audit-retention", DefaultRetention, "how long audit log entries are kept (at least 1h); older ones are purged hourly in batches")
}

// Validate reports a retention out of bounds.
func (o Options) Validate() error {
	if o.Retention < time.Hour {
		return errors.New("Retention must be at least 1h")
	}
	return nil
}

// Log reads and purges the audit log of a database.
type Log struct {
	db  *gorm.DB
	opt Options
}

// New returns the log over db (the document database).
func New(db *gorm.DB, opt Options) *Log {
	if opt.Retention <= 0 {
		opt.Retention = DefaultRetention
	}
	if opt.PurgeBatch <= 0 {
		opt.PurgeBatch = 1000
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Log{db: db, opt: opt}
}

// Append writes an entry that records no change of its own (a failed
// login), in its own transaction.
func (l *Log) Append(ctx context.Context, e Entry) error {
	return Record(l.db.WithContext(ctx), e)
}

// Filter narrows Query; empty fields match everything. Since is
// inclusive, Until exclusive.
type Filter struct {
	ActorID      string
	Action       Action
	Target       string
	DepartmentID string
	Since, Until time.Time
}

// Page selects a slice of the newest-first list; Page counts from 1.
type Page struct{ Page, Size int }

func (l *Log) filtered(ctx context.Context, f Filter) *gorm.DB {
	q := l.db.WithContext(ctx).Model(&row{})
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", string(f.Action))
	}
	if f.Target != "" {
		q = q.Where("target = ?", f.Target)
	}
	if f.DepartmentID != "" {
		q = q.Where("department_id = ?", f.DepartmentID)
	}
	if !f.Since.IsZero() {
		q = q.Where("at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("at < ?", f.Until.UTC())
	}
	return q
}

// Query returns a page of the entries f selects, newest first, and how
// many it selects in all.
func (l *Log) Query(ctx context.Context, f Filter, p Page) ([]Entry, int64, error) {
	var total int64
	if err := l.filtered(ctx, f).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var rows []row
	err := l.filtered(ctx, f).Order("at DESC").Order("id DESC").Limit(p.Size).Offset((p.Page - 1) * p.Size).Find(&rows).Error
	if err != nil {
		return nil, 0, err
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, total, nil
}

// CSVHeader is the first line of an export.
var CSVHeader = []string{"at", "actor_id", "action", "target", "ip", "department_id", "detail"}

// ExportCSV writes every entry f selects to w as CSV, newest first, read in
// batches (an export of a year is not held in memory), up to limit rows
// (0: all). It returns the rows written.
func (l *Log) ExportCSV(ctx context.Context, w io.Writer, f Filter, limit int) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return 0, err
	}
	const batch = 1000
	n := 0
	// Keyset pagination over (at, id): entries written during the export
	// neither repeat nor shift the rest.
	var after *row
	for limit == 0 || n < limit {
		q := l.filtered(ctx, f)
		if after != nil {
			q = q.Where("(at < ? OR (at = ? AND id < ?))", after.At, after.At, after.ID)
		}
		var rows []row
		if err := q.Order("at DESC").Order("id DESC").Limit(batch).Find(&rows).Error; err != nil {
			return n, err
		}
		for _, r := range rows {
			if limit > 0 && n >= limit {
				break
			}
			e := r.entry()
			detail := ""
			if len(e.Detail) > 0 {
				b, _ := json.Marshal(e.Detail)
				detail = string(b)
			}
			rec := []string{e.At.Format(time.RFC3339Nano), e.ActorID, string(e.Action), csvSafe(e.Target), e.IP, e.DepartmentID, csvSafe(detail)}
			if err := cw.Write(rec); err != nil {
				return n, err
			}
			n++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
		if len(rows) < batch {
			break
		}
		after = &rows[len(rows)-1]
	}
	return n, nil
}

// csvSafe keeps a spreadsheet from running a cell as a formula: targets
// and details carry user input (a failed login's username, a title).
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

// Purge deletes the entries older than the retention, in batches, and
// returns how many it deleted.
func (l *Log) Purge(ctx context.Context) (int64, error) {
	before := time.Now().UTC().Add(-l.opt.Retention)
	var total int64
	for {
		// Ids first, then delete them: MariaDB refuses LIMIT in a
		// subquery of IN, and both dialects take this form.
		var ids []int64
		err := l.db.WithContext(ctx).Model(&row{}).Where("at < ?", before).Order("at").Limit(l.opt.PurgeBatch).Pluck("id", &ids).Error
		if err != nil || len(ids) == 0 {
			return total, err
		}
		res := l.db.WithContext(ctx).Where("id IN ?", ids).Delete(&row{})
		total += res.RowsAffected
		if res.Error != nil {
			return total, res.Error
		}
		if len(ids) < l.opt.PurgeBatch {
			return total, nil
		}
	}
}

// Run purges every interval until ctx ends.
func (l *Log) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Hour
	}
	periodic.Run(ctx, every, func(ctx context.Context) {
		n, err := l.Purge(ctx)
		if err != nil && ctx.Err() == nil {
			l.opt.Logger.Warn("purging the audit log", "err", err)
		} else if n > 0 {
			l.opt.Logger.Info("audit log purged", "entries", n, "retention", l.opt.Retention)
		}
	})
}
