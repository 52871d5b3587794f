package hotspot

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBurstPromotedWithinTwoSlicesOfCrossingHotRate measures, in event
// time, how long after the exact one-window rate of a burst reaches HotRate
// the detector promotes it, against a Zipf background that keeps the
// summaries full (so their error is in play).
func TestBurstPromotedWithinTwoSlicesOfCrossingHotRate(t *testing.T) {
	tests := []struct {
		rate    float64 // of the burst, accesses/s
		n       uint64  // accesses per event
		advance time.Duration
	}{
		{220, 1, 10 * time.Millisecond},
		{220, 1, 100 * time.Millisecond},
		{400, 1, 50 * time.Millisecond},
		{2000, 1, 10 * time.Millisecond},
		{2000, 1, 100 * time.Millisecond},
		{50000, 25, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%g/s by %d every %v", tt.rate, tt.n, tt.advance), func(t *testing.T) {
			cfg := testConfig()
			cfg.SliceCapacity = 32
			d := mustDetector(t, cfg)
			slice := cfg.Window / time.Duration(cfg.Slices)
			burstFrom := 3*time.Second + 37*time.Millisecond

			// Background: 1,000 events/s over 100,000 ids, far more than
			// the 32 counters per slice; the most popular reads at about
			// 135/s, under HotRate.
			r := rand.New(rand.NewPCG(7, 11))
			z := rand.NewZipf(r, 1.1, 1, 99_999)
			var exact uint64
			crossAt := time.Duration(-1)
			promotedAt := time.Duration(-1)
			next := burstFrom
			gap := time.Duration(float64(tt.n) / tt.rate * float64(time.Second))
			for now := tt.advance; now <= 6*time.Second && promotedAt < 0; now += tt.advance {
				events := int(1000 * tt.advance.Seconds())
				for i := range events {
					at := now - tt.advance + time.Duration(i)*tt.advance/time.Duration(events)
					d.Observe(fmt.Sprintf("bg-%d", z.Uint64()), 1, t0.Add(at))
				}
				for ; next < now; next += gap {
					d.Observe("burst", tt.n, t0.Add(next))
					exact += tt.n
					// The burst starts from nothing and crosses within one
					// window, so its window count is its total so far.
					if crossAt < 0 && float64(exact) >= cfg.HotRate*cfg.Window.Seconds() {
						crossAt = next
					}
				}
				promoted, _ := d.Advance(t0.Add(now))
				if slices.Contains(promoted, "burst") {
					promotedAt = now
				}
				for _, id := range promoted {
					if id != "burst" {
						t.Fatalf("background document %s promoted", id)
					}
				}
			}
			if crossAt < 0 || crossAt >= burstFrom+cfg.Window {
				t.Fatalf("test setup: the burst crossed HotRate at %v", crossAt)
			}
			if promotedAt < 0 {
				t.Fatal("burst never promoted")
			}
			latency := promotedAt - crossAt
			t.Logf("crossed HotRate at %v, promoted at %v: %v after (slice %v)", crossAt, promotedAt, latency, slice)
			if latency < 0 {
				t.Fatalf("promoted %v before the exact rate reached HotRate", -latency)
			}
			if latency > 2*slice {
				t.Fatalf("promoted %v after crossing HotRate, want at most two slices (%v)", latency, 2*slice)
			}
		})
	}
}

// TestHysteresisKeepsStateBetweenRates checks that a rate between CoolRate
// and HotRate never changes a document's state, and that a document whose
// rate falls below CoolRate is demoted MinHotDuration later, once.
func TestHysteresisKeepsStateBetweenRates(t *testing.T) {
	const sec = time.Second
	type want struct {
		promotions, demotions int
		// When the exact rate falls below CoolRate for good; the demotion
		// must come MinHotDuration (2 s) after it, within one slice.
		coolsAt time.Duration
	}
	tests := []struct {
		name string
		srcs []source
		want want
	}{
		{"between the rates from the start stays cold",
			[]source{{id: "d", rate: 150, to: 12 * sec}}, want{0, 0, 0}},
		{"oscillating between the rates stays cold", alternate("d", 190, 110, 300*time.Millisecond, 0, 12*sec), want{0, 0, 0}},
		{"hot then between the rates stays hot",
			[]source{{id: "d", rate: 400, to: 2 * sec}, {id: "d", rate: 150, from: 2 * sec, to: 12 * sec}}, want{1, 0, 0}},
		{"hot then oscillating between the rates stays hot",
			append([]source{{id: "d", rate: 400, to: 2 * sec}}, alternate("d", 190, 110, 300*time.Millisecond, 2*sec, 12*sec)...), want{1, 0, 0}},
		{"dip below CoolRate shorter than the dwell stays hot",
			[]source{{id: "d", rate: 400, to: 2 * sec}, {id: "d", rate: 400, from: 3500 * time.Millisecond, to: 12 * sec}}, want{1, 0, 0}},
		// 400/s until 2 s then 50/s: the window count 400(3-t)+50(t-2)
		// falls under 100 at t = 20/7 s.
		{"drop below CoolRate demotes after the dwell",
			[]source{{id: "d", rate: 400, to: 2 * sec}, {id: "d", rate: 50, from: 2 * sec, to: 12 * sec}}, want{1, 1, 20 * sec / 7}},
		// 400/s until 2 s then nothing: 400(3-t) < 100 at t = 2.75 s.
		{"silence demotes after the dwell",
			[]source{{id: "d", rate: 400, to: 2 * sec}}, want{1, 1, 2750 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			slice := cfg.Window / time.Duration(cfg.Slices)
			for _, step := range []time.Duration{10 * time.Millisecond, slice} {
				d := mustDetector(t, cfg)
				changes := simulate(d, tt.srcs, 0, 12*sec, step)
				var promotions, demotions int
				for _, c := range changes {
					if c.promoted {
						promotions++
						continue
					}
					demotions++
					due := tt.want.coolsAt + cfg.MinHotDuration
					t.Logf("advancing every %v: demoted at %v, %v after the rate fell below CoolRate", step, c.at, c.at-tt.want.coolsAt)
					if c.at < due-slice || c.at > due+slice {
						t.Errorf("advancing every %v: demoted at %v, want %v ± %v", step, c.at, due, slice)
					}
				}
				if promotions != tt.want.promotions || demotions != tt.want.demotions {
					t.Errorf("advancing every %v: %d promotions and %d demotions (%v), want %d and %d",
						step, promotions, demotions, changes, tt.want.promotions, tt.want.demotions)
				}
			}
		})
	}
}

// alternate is id at rate a and b in turns of period each, during [from, to).
func alternate(id string, a, b float64, period, from, to time.Duration) []source {
	var out []source
	for i, at := 0, from; at < to; i, at = i+1, at+period {
		rate := a
		if i%2 == 1 {
			rate = b
		}
		out = append(out, source{id: id, rate: rate, from: at, to: min(at+period, to)})
	}
	return out
}

func TestSeed(t *testing.T) {
	const sec = time.Second
	since := t0.Add(-time.Hour)
	tests := []struct {
		name    string
		seedAt  time.Duration // Advance time before Seed; negative: before any Advance
		srcs    []source
		demoted time.Duration // when the seed is due for demotion; 0: never within 20 s
	}{
		// No evidence: a window of evidence (1 s) from the first Advance
		// (10 ms) or the seeding, then the 2 s dwell.
		{"no traffic, seeded before the first Advance", -1, nil, 3010 * time.Millisecond},
		{"no traffic, seeded at 5 s", 5 * sec, nil, 8 * sec},
		{"traffic between the rates keeps it", 5 * sec, []source{{id: "s", rate: 150, to: 20 * sec}}, 0},
		// 150/s until 10 s, then nothing: 150(11-t) < 100 from t = 10⅓ s,
		// so out at 12⅓ s.
		{"traffic that stops demotes it by the usual rules", 5 * sec, []source{{id: "s", rate: 150, to: 10 * sec}}, 12333 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			d := mustDetector(t, cfg)
			start := time.Duration(0)
			if tt.seedAt >= 0 {
				simulate(d, tt.srcs, 0, tt.seedAt, 10*time.Millisecond)
				start = tt.seedAt
			}
			if !d.Seed("s", since) {
				t.Fatal("Seed refused with an empty hot set")
			}
			hot := d.Hot()
			if len(hot) != 1 || hot[0].ID != "s" || !hot[0].Since.Equal(since) {
				t.Fatalf("Hot() = %+v, want s since %v", hot, since)
			}
			changes := simulate(d, tt.srcs, start, 20*sec, 10*time.Millisecond)
			var got []change
			for _, c := range changes {
				if c.id == "s" {
					got = append(got, c)
				}
			}
			switch {
			case tt.demoted == 0 && len(got) != 0:
				t.Fatalf("changes %v, want the seed to stay hot", got)
			case tt.demoted != 0 && (len(got) != 1 || got[0].promoted || got[0].at < tt.demoted || got[0].at > tt.demoted+20*time.Millisecond):
				// Advance runs every 10 ms: the demotion comes at the first
				// or second one after it is due.
				t.Fatalf("changes %v, want one demotion at %v (+20ms)", got, tt.demoted)
			}
		})
	}

	t.Run("seeding a hot document keeps it as it is", func(t *testing.T) {
		d := mustDetector(t, testConfig())
		simulate(d, []source{{id: "h", rate: 400, to: 2 * sec}}, 0, 2*sec, 100*time.Millisecond)
		before := d.Hot()
		if !d.Seed("h", since) {
			t.Fatal("Seed refused a hot document")
		}
		if after := d.Hot(); len(before) != 1 || !slices.Equal(before, after) {
			t.Fatalf("Hot() went from %+v to %+v", before, after)
		}
	})
	t.Run("a full hot set refuses seeds", func(t *testing.T) {
		cfg := testConfig()
		cfg.MaxHot = 2
		d := mustDetector(t, cfg)
		for i, id := range []string{"a", "b", "c"} {
			if got, want := d.Seed(id, since), i < 2; got != want {
				t.Fatalf("Seed(%q) = %v, want %v", id, got, want)
			}
		}
		if got := d.Stats().Hot; got != 2 {
			t.Fatalf("%d hot, want 2", got)
		}
	})
}

func TestForgetDropsHotSetAndCounts(t *testing.T) {
	d := mustDetector(t, testConfig())
	srcs := []source{
		{id: "p1/a", rate: 400, to: 2 * time.Second},
		{id: "p1/b", rate: 150, to: 2 * time.Second}, // counted, not hot
		{id: "p2/a", rate: 400, to: 2 * time.Second},
	}
	simulate(d, srcs, 0, 1500*time.Millisecond, 10*time.Millisecond)
	d.Seed("p1/seeded", t0)
	before := d.Stats()
	if before.Hot != 3 {
		t.Fatalf("%d hot before Forget, want 3", before.Hot)
	}
	forgotten := d.Forget(func(id string) bool { return strings.HasPrefix(id, "p1/") })
	if want := []string{"p1/a", "p1/seeded"}; !slices.Equal(forgotten, want) {
		t.Fatalf("Forget returned %v, want %v", forgotten, want)
	}
	after := d.Stats()
	if after.Hot != 1 || d.Hot()[0].ID != "p2/a" {
		t.Fatalf("hot set after Forget: %+v", d.Hot())
	}
	if after.Demotions != before.Demotions {
		t.Fatalf("Forget counted %d demotions", after.Demotions-before.Demotions)
	}
	if after.Tracked >= before.Tracked {
		t.Fatalf("tracked %d counters before Forget and %d after", before.Tracked, after.Tracked)
	}
	// The counts are gone too: nothing of p1 comes back, p2/a stays.
	promoted, demoted := d.Advance(t0.Add(1600 * time.Millisecond))
	if len(promoted) != 0 || len(demoted) != 0 {
		t.Fatalf("after Forget: promoted %v, demoted %v", promoted, demoted)
	}
	if got := d.win.count("p1/b", d.now); got != 0 {
		t.Fatalf("p1/b still counts %g", got)
	}
}

func TestMaxHotCapsAndDisplacesOnlyMuchHotter(t *testing.T) {
	const sec = time.Second
	cfg := testConfig()
	cfg.MaxHot = 2
	d := mustDetector(t, cfg)
	srcs := []source{
		{id: "a", rate: 500, to: 20 * sec},
		{id: "b", rate: 400, to: 20 * sec},
		{id: "c", rate: 300, to: 20 * sec}, // refused: the set is full
		// Too little hotter than b to displace it (needs 2x, HotRate/CoolRate).
		{id: "d", rate: 700, from: 5 * sec, to: 20 * sec},
		// Hot enough, but b is still within its dwell at first: the dwell
		// of 2 s has passed by 5 s, so e takes b's place at once.
		{id: "e", rate: 3000, from: 8 * sec, to: 20 * sec},
	}
	changes := simulate(d, srcs, 0, 10*sec, 100*time.Millisecond)
	var log []string
	for _, c := range changes {
		verb := "-"
		if c.promoted {
			verb = "+"
		}
		log = append(log, verb+c.id)
	}
	if want := []string{"+a", "+b", "+e", "-b"}; !slices.Equal(log, want) {
		t.Fatalf("changes %v, want %v", log, want)
	}
	if got := d.Hot(); len(got) != 2 || got[0].ID != "e" || got[1].ID != "a" {
		t.Fatalf("Hot() = %+v, want e then a", got)
	}
	if s := d.Stats(); s.Refused == 0 || s.Hot != 2 {
		t.Fatalf("stats %+v: want refusals and 2 hot", s)
	}
}

func TestObserveAttributesLateAndEarlyEvents(t *testing.T) {
	cfg := testConfig()
	d := mustDetector(t, cfg)
	d.Advance(t0.Add(5 * time.Second))
	// 150 from a live slice 0.5 s back plus 60 from the future (counted
	// now) reach HotRate; 1000 from 1.2 s back have left the window.
	d.Observe("x", 150, t0.Add(4500*time.Millisecond))
	d.Observe("x", 60, t0.Add(9*time.Second))
	d.Observe("x", 1000, t0.Add(3800*time.Millisecond))
	d.Observe("x", 0, t0.Add(5*time.Second))
	s := d.Stats()
	if s.Late != 1000 || s.Events != 1210 || s.Observations != 4 {
		t.Fatalf("stats %+v: want 1000 late of 1210 events in 4 observations", s)
	}
	promoted, _ := d.Advance(t0.Add(5*time.Second + 50*time.Millisecond))
	if !slices.Equal(promoted, []string{"x"}) {
		t.Fatalf("promoted %v, want x", promoted)
	}
	if got := d.Hot()[0].RatePerSec; got != 210 {
		t.Fatalf("rate %g, want 210", got)
	}
	// Time does not go back: an earlier Advance changes nothing.
	if p, dm := d.Advance(t0); len(p)+len(dm) != 0 || d.Hot()[0].RatePerSec != 210 {
		t.Fatalf("Advance into the past: %v %v %+v", p, dm, d.Hot())
	}
	// A gap longer than the window empties it.
	d.Advance(t0.Add(time.Minute))
	if got := d.Stats().Tracked; got != 0 {
		t.Fatalf("%d counters after a long gap", got)
	}
}
