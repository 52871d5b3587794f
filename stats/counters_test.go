package stats_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"docplat/events"
	"docplat/stats"
)

// TestApplyBatchCounts: one batch counts views and downloads per document
// and per document-hour, keeps the latest access time (whatever the order
// of the records), and stores the position after the batch.
func TestApplyBatchCounts(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		ctx := context.Background()
		h0 := time.Now().UTC().Truncate(time.Hour).Add(-5 * time.Hour)
		at := func(d time.Duration) time.Time { return h0.Add(d) }
		batch := records(0,
			access("doc-a", "view", at(10*time.Minute)),
			access("doc-a", "download", at(20*time.Minute)),
			access("doc-a", "view", at(time.Hour+5*time.Minute)),
			access("doc-b", "view", at(30*time.Minute)),
			access("doc-a", "view", at(time.Hour+59*time.Minute+59*time.Second+500*time.Millisecond)), // doc-a's latest
			access("doc-b", "download", at(2*time.Hour)),                                              // doc-b's latest
			access("doc-a", "view", at(15*time.Minute)),                                               // older than what came before
		)
		if err := s.ApplyBatch(ctx, "counters", 0, batch); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			doc              string
			views, downloads int64
			last             time.Time
			hours            []hourRow
		}{
			{"doc-a", 4, 1, at(time.Hour + 59*time.Minute + 59*time.Second + 500*time.Millisecond), []hourRow{
				{Hour: h0, Views: 2, Downloads: 1},
				{Hour: h0.Add(time.Hour), Views: 2},
			}},
			{"doc-b", 1, 1, at(2 * time.Hour), []hourRow{
				{Hour: h0, Views: 1},
				{Hour: h0.Add(2 * time.Hour), Downloads: 1},
			}},
		}
		for _, tc := range cases {
			ds, err := s.DocumentStats(ctx, tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if ds.Views != tc.views || ds.Downloads != tc.downloads {
				t.Errorf("%s: views %d downloads %d, want %d and %d", tc.doc, ds.Views, ds.Downloads, tc.views, tc.downloads)
			}
			if ds.LastAccessAt == nil || !ds.LastAccessAt.Equal(tc.last) {
				t.Errorf("%s: last_access_at %v, want %v", tc.doc, ds.LastAccessAt, tc.last)
			}
			if got := readHours(t, s, tc.doc); !reflect.DeepEqual(got, tc.hours) {
				t.Errorf("%s: hourly rows %+v, want %+v", tc.doc, got, tc.hours)
			}
		}
		if off, err := s.Offset(ctx, "counters", 0); err != nil || off != int64(len(batch)) {
			t.Errorf("Offset = %d, %v; want %d", off, err, len(batch))
		}

		// A later batch with an older access does not move last_access_at back.
		if err := s.ApplyBatch(ctx, "counters", 0, records(int64(len(batch)), access("doc-b", "view", at(time.Minute)))); err != nil {
			t.Fatal(err)
		}
		ds, err := s.DocumentStats(ctx, "doc-b")
		if err != nil {
			t.Fatal(err)
		}
		if ds.Views != 2 || ds.LastAccessAt == nil || !ds.LastAccessAt.Equal(at(2*time.Hour)) {
			t.Errorf("doc-b after an older access: views %d last %v; want 2 and %v", ds.Views, ds.LastAccessAt, at(2*time.Hour))
		}
	})
}

// TestApplyBatchSkipsApplied: records before the stored position are
// skipped, so a replayed batch counts nothing and an overlapping one counts
// only its new records. Every record is one view; the table gives the
// batches (as [first, end) offset ranges) applied in order.
func TestApplyBatchSkipsApplied(t *testing.T) {
	type span struct{ from, to int64 }
	cases := []struct {
		name      string
		batches   []span
		wantViews int64
		wantNext  int64
	}{
		{"single batch", []span{{0, 10}}, 10, 10},
		{"replayed batch", []span{{0, 10}, {0, 10}}, 10, 10},
		{"replayed three times", []span{{0, 10}, {0, 10}, {0, 10}}, 10, 10},
		{"overlapping batch adds only the new records", []span{{0, 10}, {5, 15}}, 15, 15},
		{"batch inside an applied one", []span{{0, 10}, {2, 8}}, 10, 10},
		{"replay of an older batch after a newer one", []span{{0, 10}, {10, 20}, {0, 10}}, 20, 20},
		{"batch before the position is skipped", []span{{0, 10}, {20, 30}, {10, 20}}, 20, 30},
		{"first batch not at offset 0", []span{{100, 110}}, 10, 110},
		{"empty batch changes nothing", []span{{0, 5}, {5, 5}}, 5, 5},
	}
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		ctx := context.Background()
		base := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				consumer, doc := fmt.Sprintf("consumer-%d", i), fmt.Sprintf("doc-%d", i)
				// record at offset o is a view at base + o minutes
				mk := func(sp span) []events.Record {
					var recs []events.Record
					for o := sp.from; o < sp.to; o++ {
						recs = append(recs, events.Record{Offset: o, Access: access(doc, "view", base.Add(time.Duration(o)*time.Minute))})
					}
					return recs
				}
				var maxCounted int64 = -1
				next := int64(-1)
				for _, sp := range tc.batches {
					if err := s.ApplyBatch(ctx, consumer, 0, mk(sp)); err != nil {
						t.Fatalf("ApplyBatch %v: %v", sp, err)
					}
					if sp.to-1 >= next {
						maxCounted = max(maxCounted, sp.to-1)
					}
					if sp.to > sp.from {
						next = max(next, sp.to)
					}
				}
				ds, err := s.DocumentStats(ctx, doc)
				if err != nil {
					t.Fatal(err)
				}
				if ds.Views != tc.wantViews || ds.Downloads != 0 {
					t.Errorf("views %d downloads %d, want %d and 0", ds.Views, ds.Downloads, tc.wantViews)
				}
				var hourly int64
				for _, h := range readHours(t, s, doc) {
					hourly += h.Views
				}
				if hourly != tc.wantViews {
					t.Errorf("hourly views sum to %d, want %d", hourly, tc.wantViews)
				}
				wantLast := base.Add(time.Duration(maxCounted) * time.Minute)
				if ds.LastAccessAt == nil || !ds.LastAccessAt.Equal(wantLast) {
					t.Errorf("last_access_at %v, want %v", ds.LastAccessAt, wantLast)
				}
				if off, err := s.Offset(ctx, consumer, 0); err != nil || off != tc.wantNext {
					t.Errorf("Offset = %d, %v; want %d", off, err, tc.wantNext)
				}
			})
		}
		// Positions are per consumer and part.
		cases2 := []struct {
			consumer string
			part     int
			want     int64
		}{
			{"consumer-0", 0, 10},
			{"consumer-0", 1, 0},
			{"never-seen", 0, 0},
		}
		for _, tc := range cases2 {
			if off, err := s.Offset(ctx, tc.consumer, tc.part); err != nil || off != tc.want {
				t.Errorf("Offset(%s, %d) = %d, %v; want %d", tc.consumer, tc.part, off, err, tc.want)
			}
		}
	})
}

// accessAt is the i-th access the stream tests publish: five documents,
// every third one a download, every seventh an aggregate of 4 accesses.
func accessAt(base time.Time, i int) events.Access {
	kind := "view"
	if i%3 == 0 {
		kind = "download"
	}
	a := access(fmt.Sprintf("doc-%d", i%5), kind, base.Add(time.Duration(i)*time.Second))
	if i%7 == 0 {
		a.Count = 4
	}
	return a
}

// expectedTotals is what the accesses [from, to) count per document.
func expectedTotals(from, to int) map[string]totals {
	want := map[string]totals{}
	for i := from; i < to; i++ {
		a := accessAt(time.Time{}, i)
		c := want[a.DocumentID]
		if a.Kind == "download" {
			c.Downloads += a.N()
		} else {
			c.Views += a.N()
		}
		want[a.DocumentID] = c
	}
	return want
}

func allTotals(t testing.TB, s *stats.Service) map[string]totals {
	got := map[string]totals{}
	for d := range 5 {
		doc := fmt.Sprintf("doc-%d", d)
		if c := docTotals(t, s, doc); c != (totals{}) {
			got[doc] = c
		}
	}
	return got
}
