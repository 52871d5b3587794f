package stats_test

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
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

// accessAt is the i-th access the consume tests append: five documents,
// every third one a download.
func accessAt(base time.Time, i int) events.Access {
	kind := "view"
	if i%3 == 0 {
		kind = "download"
	}
	return access(fmt.Sprintf("doc-%d", i%5), kind, base.Add(time.Duration(i)*time.Second))
}

// expectedTotals is what the accesses [from, to) count per document.
func expectedTotals(from, to int) map[string]totals {
	want := map[string]totals{}
	for i := from; i < to; i++ {
		a := accessAt(time.Time{}, i)
		c := want[a.DocumentID]
		if a.Kind == "download" {
			c.Downloads++
		} else {
			c.Views++
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

// wakeLog is an events.Log (its records, offsets and overflow) whose Wait
// cannot miss its timeout: events.Log.Wait can sleep until the next Append
// when its timer fires while the waiter is waking up (see
// TestConsumeReturnsOnIdleLog), which would leave a cancelled Consume
// running. Appends go through the wrapper so that it can wake waiters.
type wakeLog struct {
	*events.Log
	mu   sync.Mutex
	cond *sync.Cond
}

func newWakeLog(capacity int) *wakeLog {
	w := &wakeLog{Log: events.NewLog(capacity)}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *wakeLog) Append(a events.Access) {
	w.Log.Append(a)
	w.mu.Lock() // a waiter has either seen the new end or is registered
	w.mu.Unlock()
	w.cond.Broadcast()
}

func (w *wakeLog) Wait(offset int64, timeout time.Duration) {
	timedOut := false
	t := time.AfterFunc(timeout, func() {
		w.mu.Lock()
		timedOut = true
		w.mu.Unlock()
		w.cond.Broadcast()
	})
	defer t.Stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.Log.End() <= offset && !timedOut {
		w.cond.Wait()
	}
}

// startConsume runs Consume until the returned stop is called; stop waits
// (at most 10 s) for it to return.
func startConsume(t *testing.T, s *stats.Service, log stats.Source, consumer string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Consume(ctx, log, consumer, 50, 20*time.Millisecond)
	}()
	stopped := false
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Consume did not return within 10s of its context being cancelled")
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestConsumeCountsOnceAcrossRestart: 250 accesses appended while Consume
// runs (batches of 50, linger 20 ms) are all counted; a Consume restarted
// over the same log resumes from the stored position, counts what comes
// next, and never counts anything twice.
func TestConsumeCountsOnceAcrossRestart(t *testing.T) {
	var logs *logCapture
	newLogger := func() *slog.Logger { logs = &logCapture{}; return slog.New(logs) }
	eachBackendLogged(t, newLogger, func(t *testing.T, s *stats.Service) {
		ctx := context.Background()
		const total, chunk, more = 250, 30, 20
		// The log keeps only 100 records; the appender stays within that by
		// appending a chunk (smaller than a batch, so linger flushes it) only
		// once the previous ones are counted.
		log := newWakeLog(100)
		base := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
		stop := startConsume(t, s, log, "restart")

		appendErr := make(chan error, 1)
		go func() {
			defer close(appendErr)
			for i := 0; i < total; {
				for end := min(i+chunk, total); i < end; i++ {
					log.Append(accessAt(base, i))
				}
				deadline := time.Now().Add(10 * time.Second)
				for {
					off, err := s.Offset(ctx, "restart", 0)
					if err != nil {
						appendErr <- err
						return
					}
					if off >= int64(i) {
						break
					}
					if time.Now().After(deadline) {
						appendErr <- fmt.Errorf("consumer stuck at offset %d of %d", off, i)
						return
					}
					time.Sleep(2 * time.Millisecond)
				}
			}
		}()
		want := expectedTotals(0, total)
		eventually(t, "all 250 accesses to be counted", func() bool { return reflect.DeepEqual(allTotals(t, s), want) })
		if err := <-appendErr; err != nil {
			t.Fatal(err)
		}
		stop()
		if got := allTotals(t, s); !reflect.DeepEqual(got, want) {
			t.Fatalf("after stopping: %v, want %v", got, want)
		}
		if off, err := s.Offset(ctx, "restart", 0); err != nil || off != total {
			t.Fatalf("Offset after stopping = %d, %v; want %d", off, err, total)
		}

		// Restart over the same log: nothing is counted again; new accesses are.
		stop = startConsume(t, s, log, "restart")
		for i := total; i < total+more; i++ {
			log.Append(accessAt(base, i))
		}
		want = expectedTotals(0, total+more)
		eventually(t, "the accesses appended after the restart to be counted", func() bool {
			off, err := s.Offset(ctx, "restart", 0)
			return err == nil && off == total+more
		})
		stop()
		if got := allTotals(t, s); !reflect.DeepEqual(got, want) {
			t.Fatalf("after the restart: %v, want %v", got, want)
		}
		if lost, n := logs.sumInt(slog.LevelWarn, "lost", "count"); n != 0 {
			t.Errorf("%d records reported lost (%d warnings); the appender kept within the log", lost, n)
		}
	})
}

// TestConsumeFarBehindReportsLost: a consumer that starts after a small log
// overflowed reports exactly the overwritten records as lost, counts the
// rest and keeps consuming.
func TestConsumeFarBehindReportsLost(t *testing.T) {
	var logs *logCapture
	newLogger := func() *slog.Logger { logs = &logCapture{}; return slog.New(logs) }
	eachBackendLogged(t, newLogger, func(t *testing.T, s *stats.Service) {
		ctx := context.Background()
		const capacity, before, after = 10, 25, 7
		log := newWakeLog(capacity)
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		for i := range before {
			log.Append(accessAt(base, i))
		}
		stop := startConsume(t, s, log, "behind")
		eventually(t, "the surviving records to be counted", func() bool {
			off, err := s.Offset(ctx, "behind", 0)
			return err == nil && off == before
		})
		lost, _ := logs.sumInt(slog.LevelWarn, "lost", "count")
		if lost != before-capacity {
			t.Fatalf("reported %d records lost, want %d", lost, before-capacity)
		}
		if got, want := allTotals(t, s), expectedTotals(before-capacity, before); !reflect.DeepEqual(got, want) {
			t.Fatalf("counted %v, want only the records that survived: %v", got, want)
		}

		// It keeps consuming.
		for i := before; i < before+after; i++ {
			log.Append(accessAt(base, i))
		}
		eventually(t, "records appended later to be counted", func() bool {
			off, err := s.Offset(ctx, "behind", 0)
			return err == nil && off == before+after
		})
		stop()
		var counted int64
		for _, c := range allTotals(t, s) {
			counted += c.Views + c.Downloads
		}
		if counted != before+after-lost {
			t.Fatalf("counted %d accesses, want %d appended - %d lost = %d", counted, before+after, lost, before+after-lost)
		}
		if again, _ := logs.sumInt(slog.LevelWarn, "lost", "count"); again != lost {
			t.Fatalf("lost count grew from %d to %d although the consumer kept up", lost, again)
		}
	})
}

// countingLog counts the Wait calls made on an events.Log.
type countingLog struct {
	*events.Log
	waits atomic.Int64
}

func (c *countingLog) Wait(offset int64, timeout time.Duration) {
	c.Log.Wait(offset, timeout)
	c.waits.Add(1)
}

// TestConsumeReturnsOnIdleLog: consumers idling on events.Log (nothing
// appended) keep waking up every linger and all return once cancelled.
func TestConsumeReturnsOnIdleLog(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *stats.Service) {
		const consumers, wakeups = 100, 300
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		logs := make([]*countingLog, consumers)
		var wg sync.WaitGroup
		for i := range logs {
			logs[i] = &countingLog{Log: events.NewLog(10)}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.Consume(ctx, logs[i], fmt.Sprintf("idle-%d", i), 50, 10*time.Microsecond)
			}()
		}
		eventually(t, fmt.Sprintf("every consumer to wake up %d times on its idle log", wakeups), func() bool {
			for _, l := range logs {
				if l.waits.Load() < wakeups {
					return false
				}
			}
			return true
		})
		cancel()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("cancelled consumers did not return within 10s")
		}
	})
}
