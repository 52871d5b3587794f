package stats_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"docplat/events"
	"docplat/stats"
)

// TestDocumentStatsDaily: the daily buckets sum the hours of each UTC day
// within the last 30 days (today and the 29 before), ordered by date
// whatever order the accesses arrived in; the totals count every access.
func TestDocumentStatsDaily(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		ctx := context.Background()
		day := func(today time.Time, n int) time.Time { return today.AddDate(0, 0, n) }
		today := time.Now().UTC().Truncate(24 * time.Hour)
		// deliberately out of order
		accs := []events.Access{
			access("doc", "view", day(today, 0)), // midnight starts today
			access("doc", "view", day(today, -1).Add(5*time.Hour)),
			access("doc", "download", day(today, -2).Add(13*time.Hour+30*time.Minute)),
			access("doc", "view", day(today, -2).Add(time.Hour)),
			access("doc", "view", day(today, -1).Add(24*time.Hour-time.Second)), // last second of yesterday
			access("doc", "download", day(today, -1).Add(24*time.Hour-time.Second)),
			access("doc", "view", day(today, -2).Add(time.Hour+time.Minute)),
			access("doc", "view", day(today, -29)),                       // first day of the window
			access("doc", "download", day(today, -30).Add(23*time.Hour)), // the day before it: totals only
			access("doc", "view", day(today, -40)),                       // long ago: totals only
			access("other", "view", day(today, -1).Add(5*time.Hour)),     // another document
			access("doc", "view", day(today, -2).Add(23*time.Hour+59*time.Minute)),
		}
		if err := s.ApplyBatch(ctx, "daily", 0, records(0, accs...)); err != nil {
			t.Fatal(err)
		}
		got, err := s.DocumentStats(ctx, "doc")
		if err != nil {
			t.Fatal(err)
		}
		if !time.Now().UTC().Truncate(24 * time.Hour).Equal(today) {
			t.Skip("UTC midnight passed during the test: the 30-day window moved")
		}
		date := func(n int) string { return day(today, n).Format("2006-01-02") }
		last := day(today, 0)
		want := stats.DocumentStats{Views: 8, Downloads: 3, LastAccessAt: &last, Daily: []stats.Day{
			{Date: date(-29), Views: 1},
			{Date: date(-2), Views: 3, Downloads: 1},
			{Date: date(-1), Views: 2, Downloads: 1},
			{Date: date(0), Views: 1},
		}}
		if got.Views != want.Views || got.Downloads != want.Downloads {
			t.Errorf("totals: views %d downloads %d, want %d and %d", got.Views, got.Downloads, want.Views, want.Downloads)
		}
		if got.LastAccessAt == nil || !got.LastAccessAt.Equal(*want.LastAccessAt) {
			t.Errorf("last_access_at %v, want %v", got.LastAccessAt, want.LastAccessAt)
		}
		if !reflect.DeepEqual(got.Daily, want.Daily) {
			t.Errorf("daily = %+v\nwant    %+v", got.Daily, want.Daily)
		}
	})
}

// TestDocumentStatsUnknown: a document never accessed has zero counters,
// no last access and an empty (not null) daily list.
func TestDocumentStatsUnknown(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		ctx := context.Background()
		// another document's counters exist
		if err := s.ApplyBatch(ctx, "c", 0, records(0, access("known", "view", time.Now().UTC()))); err != nil {
			t.Fatal(err)
		}
		got, err := s.DocumentStats(ctx, "unknown")
		if err != nil {
			t.Fatal(err)
		}
		if got.Views != 0 || got.Downloads != 0 || got.LastAccessAt != nil || got.Daily == nil || len(got.Daily) != 0 {
			t.Fatalf("DocumentStats(unknown) = %+v, want zeros and an empty daily list", got)
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"daily":[]`) || !strings.Contains(string(b), `"last_access_at":null`) {
			t.Fatalf("JSON %s: want \"daily\":[] and \"last_access_at\":null", b)
		}
	})
}

// TestTop: each window counts only the hours within it, documents rank by
// views then downloads then id, limit cuts the list, and an unknown window
// is ErrBadWindow.
func TestTop(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		ctx := context.Background()
		if got, err := s.Top(ctx, "7d", 10); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("Top on an empty database = %#v, %v; want an empty list", got, err)
		}
		now := time.Now().UTC()
		var accs []events.Access
		add := func(doc, kind string, at time.Time, n int) {
			for range n {
				accs = append(accs, access(doc, kind, at))
			}
		}
		add("recent", "view", now.Add(-30*time.Minute), 3)
		add("recent", "download", now.Add(-30*time.Minute), 1)
		add("midday", "view", now.Add(-5*time.Hour), 5)
		add("midday", "view", now.Add(-30*time.Minute), 1)
		add("old", "view", now.Add(-3*24*time.Hour), 10)
		add("tie-b", "view", now.Add(-3*24*time.Hour), 2)
		add("tie-b", "download", now.Add(-3*24*time.Hour), 1)
		add("tie-a", "view", now.Add(-3*24*time.Hour), 2)
		add("tie-a", "download", now.Add(-3*24*time.Hour), 1)
		add("tie-c", "view", now.Add(-3*24*time.Hour), 2)
		add("tie-c", "download", now.Add(-3*24*time.Hour), 2)
		add("ancient", "view", now.Add(-10*24*time.Hour), 50) // outside every window
		if err := s.ApplyBatch(ctx, "top", 0, records(0, accs...)); err != nil {
			t.Fatal(err)
		}
		r := func(doc string, v, d int64) stats.Ranked {
			return stats.Ranked{DocumentID: doc, Views: v, Downloads: d}
		}
		week := []stats.Ranked{r("old", 10, 0), r("midday", 6, 0), r("recent", 3, 1), r("tie-c", 2, 2), r("tie-a", 2, 1), r("tie-b", 2, 1)}
		cases := []struct {
			window string
			limit  int
			want   []stats.Ranked
		}{
			{"1h", 10, []stats.Ranked{r("recent", 3, 1), r("midday", 1, 0)}},
			{"24h", 10, []stats.Ranked{r("midday", 6, 0), r("recent", 3, 1)}},
			{"7d", 10, week},
			{"7d", 2, week[:2]},
			{"7d", 6, week},
			{"1h", 1, week[2:3]},
			{"7d", 0, []stats.Ranked{}},
		}
		for _, tc := range cases {
			got, err := s.Top(ctx, tc.window, tc.limit)
			if err != nil {
				t.Fatalf("Top(%s, %d): %v", tc.window, tc.limit, err)
			}
			if got == nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Top(%s, %d) = %+v\nwant %+v", tc.window, tc.limit, got, tc.want)
			}
		}
		for _, w := range []string{"", "30d", "1H", "1d", "24 h"} {
			if got, err := s.Top(ctx, w, 10); !errors.Is(err, stats.ErrBadWindow) || got != nil {
				t.Errorf("Top(%q) = %v, %v; want ErrBadWindow", w, got, err)
			}
		}
	})
}
