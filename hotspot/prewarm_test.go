package hotspot

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"docplat/events"
)

// fakeSchedule is the documents' schedule: WarmAt by id.
type fakeSchedule map[string]time.Time

func (s fakeSchedule) DueForWarming(_ context.Context, from, to time.Time) ([]Scheduled, error) {
	var out []Scheduled
	for id, at := range s {
		if !at.Before(from) && !at.After(to) {
			out = append(out, Scheduled{ID: id, WarmAt: at})
		}
	}
	slices.SortFunc(out, func(a, b Scheduled) int { return a.WarmAt.Compare(b.WarmAt) })
	return out, nil
}

// TestPrewarmerPromotesAheadAndKeepsItHotThroughTheLecture: a handout is
// not promoted before its lead time, is promoted (and announced, so every
// instance warms its L1) once inside it, is re-announced for L1 while
// waiting, and stays in the hot set through its lecture's grace period
// although no detector saw a hit (neither the lease janitor nor a
// detector's cooling demotes it); after the grace period the normal rules
// apply and the janitor removes it.
func TestPrewarmerPromotesAheadAndKeepsItHotThroughTheLecture(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hs := newHotSet(t)
	lecture := time.Now().Truncate(time.Second).Add(time.Hour)
	clock := lecture.Add(-10 * time.Minute)
	pw := NewPrewarmer(PrewarmerConfig{PrewarmOptions: PrewarmOptions{Lead: 5 * time.Minute, Grace: 15 * time.Minute}, HotSet: hs,
		Schedule: fakeSchedule{"handout": lecture}, Instance: "a", Rewarm: 30 * time.Second, Now: func() time.Time { return clock }, Logger: quietLogger()})
	var mu sync.Mutex
	var heard []Change
	go func() {
		_ = hs.Subscribe(ctx, func(c Change) {
			mu.Lock()
			heard = append(heard, c)
			mu.Unlock()
		})
	}()
	time.Sleep(100 * time.Millisecond) // subscribed
	hot := func() []string {
		t.Helper()
		entries, err := hs.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range entries {
			ids = append(ids, e.ID)
		}
		return ids
	}
	step := func(at time.Time) {
		t.Helper()
		clock = at
		if err := pw.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	step(lecture.Add(-10 * time.Minute))
	if got := hot(); len(got) != 0 {
		t.Fatalf("10 minutes before a 5-minute lead: hot set %v, want empty", got)
	}
	step(lecture.Add(-5 * time.Minute))
	if got := hot(); !slices.Equal(got, []string{"handout"}) {
		t.Fatalf("at the lead time: hot set %v, want [handout]", got)
	}
	step(lecture.Add(-4 * time.Minute))
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(heard)
		got := slices.Clone(heard)
		mu.Unlock()
		if n >= 2 {
			if got[0] != (Change{Op: "promote", ID: "handout"}) || got[1] != (Change{Op: OpWarm, ID: "handout"}) {
				t.Fatalf("announcements %+v, want a promotion then an L1 warming", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("announcements %+v, want a promotion then an L1 warming", got)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A detector that saw the handout hot during the lecture's first burst
	// and then nothing cools it: the hold keeps it, as it keeps it from
	// the lease janitor.
	cfg := DefaultConfig()
	cfg.HotRate, cfg.CoolRate, cfg.MinHotDuration = 100, 50, 2*time.Second
	r, err := NewRunner(RunnerConfig{Detector: cfg, HotSet: hs, Lease: 3 * time.Second, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r.Assigned(ctx, []int32{0})
	var recs []events.Record
	for i := range 50 {
		recs = append(recs, events.Record{Partition: 0, Offset: int64(i), Access: events.Access{DocumentID: "handout", Kind: "view", At: lecture, Count: 10}})
	}
	if err := r.Handle(ctx, 0, recs); err != nil {
		t.Fatal(err)
	}
	if err := r.step(ctx, lecture, true); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Duration{5 * time.Second, 10 * time.Second, time.Minute, 14 * time.Minute} {
		if err := r.step(ctx, lecture.Add(at), false); err != nil {
			t.Fatal(err)
		}
		r.expire(ctx, lecture.Add(at))
		if got := hot(); !slices.Equal(got, []string{"handout"}) {
			t.Fatalf("%s into the lecture, without hits: hot set %v, want [handout] (held)", at, got)
		}
	}
	r.expire(ctx, lecture.Add(15*time.Minute+time.Second))
	if got := hot(); len(got) != 0 {
		t.Fatalf("after the grace period: hot set %v, want empty (the normal rules)", got)
	}
}
