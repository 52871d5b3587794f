package stats_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"docplat/events"
	"docplat/internal/testdb"
	"docplat/stats"
)

// eachBackend runs fn once per backend (SQLite and MariaDB), each with a
// fresh stats database.
func eachBackend(t *testing.T, fn func(t *testing.T, s *stats.Service)) {
	t.Helper()
	eachBackendLogged(t, nil, fn)
}

// eachBackendLogged is eachBackend with the service's logger supplied by
// newLogger (called per backend; nil = the default logger).
func eachBackendLogged(t *testing.T, newLogger func() *slog.Logger, fn func(t *testing.T, s *stats.Service)) {
	t.Helper()
	for _, b := range testdb.Backends {
		t.Run(string(b), func(t *testing.T) {
			cfg := stats.Config{MySQLDSN: testdb.DSNFor(t, b), DataDir: t.TempDir()}
			if newLogger != nil {
				cfg.Logger = newLogger()
			}
			s, err := stats.Open(context.Background(), cfg)
			if err != nil {
				t.Fatalf("stats.Open(%s): %v", b, err)
			}
			t.Cleanup(func() { _ = s.Close() })
			fn(t, s)
		})
	}
}

// payload is the JSON the document service sends to the stats participant.
func payload(t testing.TB, u stats.UsageChange) []byte {
	t.Helper()
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// usageRow is a department's row as stored, including the reservation the
// public reads do not expose.
type usageRow struct {
	Quota, Used, Reserved, Documents int64
	Found                            bool
}

func readUsage(t testing.TB, s *stats.Service, dept string) usageRow {
	t.Helper()
	var rows []struct {
		QuotaBytes, BytesUsed, ReservedBytes, Documents int64
	}
	if err := s.DB().Raw(`SELECT quota_bytes, bytes_used, reserved_bytes, documents FROM department_usage WHERE department_id = ?`,
		dept).Scan(&rows).Error; err != nil {
		t.Fatalf("reading department_usage: %v", err)
	}
	if len(rows) == 0 {
		return usageRow{}
	}
	r := rows[0]
	return usageRow{Quota: r.QuotaBytes, Used: r.BytesUsed, Reserved: r.ReservedBytes, Documents: r.Documents, Found: true}
}

// hourRow is one document_hourly row.
type hourRow struct {
	Hour             time.Time
	Views, Downloads int64
}

func readHours(t testing.TB, s *stats.Service, doc string) []hourRow {
	t.Helper()
	var rows []hourRow
	if err := s.DB().Raw(`SELECT hour, views, downloads FROM document_hourly WHERE document_id = ? ORDER BY hour`, doc).
		Scan(&rows).Error; err != nil {
		t.Fatalf("reading document_hourly: %v", err)
	}
	for i := range rows {
		rows[i].Hour = rows[i].Hour.UTC()
	}
	return rows
}

// totals is a document's counters as DocumentStats reports them.
type totals struct{ Views, Downloads int64 }

func docTotals(t testing.TB, s *stats.Service, doc string) totals {
	t.Helper()
	ds, err := s.DocumentStats(context.Background(), doc)
	if err != nil {
		t.Fatalf("DocumentStats(%s): %v", doc, err)
	}
	return totals{ds.Views, ds.Downloads}
}

// access builds an access event.
func access(doc, kind string, at time.Time) events.Access {
	return events.Access{DocumentID: doc, Kind: kind, At: at}
}

// records numbers accesses from offset first on.
func records(first int64, as ...events.Access) []events.Record {
	out := make([]events.Record, len(as))
	for i, a := range as {
		out[i] = events.Record{Offset: first + int64(i), Access: a}
	}
	return out
}

// logCapture is a slog.Handler that keeps every record (safe for use by
// the consumer's goroutine while the test reads).
type logCapture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r.Clone())
	return nil
}
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *logCapture) WithGroup(string) slog.Handler      { return c }

// sumInt sums the integer attribute key over the warnings whose message
// contains msg, and says how many there were.
func (c *logCapture) sumInt(level slog.Level, msgContains, key string) (sum int64, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recs {
		if r.Level != level || !strings.Contains(r.Message, msgContains) {
			continue
		}
		n++
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				sum += a.Value.Int64()
			}
			return true
		})
	}
	return sum, n
}
