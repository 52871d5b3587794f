package hotspot

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestHotSetAgainstExactCountsUnderZipfWithBursts runs a Zipf(1.1)
// background over 1,000,000 ids at 100,000 events/s plus three bursts (a
// document going from nothing to 400/s, 2,000/s and 30,000/s), counts every
// event exactly alongside, and compares the hot set with the truth every
// half second.
//
// "Clearly" means a margin of 10% around the thresholds: clearly hot is an
// exact rate of at least 1.1*HotRate, clearly cold under 0.9*CoolRate. The
// detector's own worst-case error, (events in the window) /
// (SliceCapacity * Window), is about 25/s with 4096 counters per slice (so
// within the margin) and about 200/s with 512 (far beyond it: that case
// shows what the typical error, much smaller than the worst, does). Advance
// runs at slice boundaries, where the window is exactly the last Slices
// slices, so no interpolation error adds to the summaries'.
//   - Recall: of the clearly hot documents, the share in the hot set. Each
//     must be hot whatever its history: even cooling, it is demoted only
//     under CoolRate.
//   - Precision: of the hot set, the share that is not clearly cold. A
//     document is clearly cold when its exact rate has stayed clearly cold
//     for longer than MinHotDuration plus one Advance; any other hot
//     document may rightly be dwelling before its demotion.
//
// The detector's rates are lower bounds, so precision should be 1; the test
// asserts both at least 0.9 and logs the figures. It also checks every hot
// document's rate against the exact one and the worst-case bound.
func TestHotSetAgainstExactCountsUnderZipfWithBursts(t *testing.T) {
	for _, capacity := range []int{4096, 512} {
		t.Run(strconv.Itoa(capacity)+" counters per slice", func(t *testing.T) {
			checkHotSetAgainstExactCounts(t, capacity)
		})
	}
}

func checkHotSetAgainstExactCounts(t *testing.T, capacity int) {
	cfg := Config{
		Window:         time.Second,
		Slices:         10,
		SliceCapacity:  capacity,
		HotRate:        200,
		CoolRate:       100,
		MinHotDuration: time.Second,
		MaxHot:         500,
	}
	d := mustDetector(t, cfg)
	slice := cfg.Window / time.Duration(cfg.Slices)
	const (
		background = 100_000 // events/s
		end        = 7 * time.Second
	)
	bursts := []source{
		{id: "burst-slow", rate: 400, from: 2050 * time.Millisecond, to: 5 * time.Second, n: 1},
		{id: "burst-fast", rate: 2000, from: 1200 * time.Millisecond, to: 4 * time.Second, n: 2},
		{id: "burst-lecture", rate: 30000, from: 3300 * time.Millisecond, to: 3800 * time.Millisecond, n: 50},
	}
	r := rand.New(rand.NewPCG(2026, 1123))
	z := rand.NewZipf(r, 1.1, 1, 999_999)

	// exact[i] holds the exact counts of the i-th slice modulo Slices.
	exact := make([]map[string]uint64, cfg.Slices)
	for i := range exact {
		exact[i] = map[string]uint64{}
	}
	windowCount := func(id string) (n uint64) {
		for _, m := range exact {
			n += m[id]
		}
		return n
	}
	lastWarm := map[string]time.Duration{} // last Advance at which a hot document was not clearly cold
	nextBurst := make([]time.Duration, len(bursts))
	for i, b := range bursts {
		nextBurst[i] = b.from
	}

	var buf []byte
	var minPrecision, minRecall = 1.0, 1.0
	for sl := time.Duration(0); sl < end; sl += slice {
		cur := exact[int(sl/slice)%cfg.Slices]
		clear(cur)
		per := int(background * slice.Seconds())
		for i := range per {
			at := sl + time.Duration(i)*slice/time.Duration(per)
			buf = strconv.AppendUint(append(buf[:0], "doc-"...), z.Uint64(), 10)
			id := string(buf)
			d.Observe(id, 1, t0.Add(at))
			cur[id]++
		}
		for i, b := range bursts {
			gap := time.Duration(float64(b.n) / b.rate * float64(time.Second))
			for ; nextBurst[i] < sl+slice && nextBurst[i] < b.to; nextBurst[i] += gap {
				if nextBurst[i] >= sl {
					d.Observe(b.id, b.n, t0.Add(nextBurst[i]))
					cur[b.id] += b.n
				}
			}
		}

		now := sl + slice
		promoted, _ := d.Advance(t0.Add(now))
		for _, id := range promoted {
			if id[:5] == "burst" {
				t.Logf("%v: %s promoted", now, id)
			}
		}
		var total uint64
		for _, m := range exact {
			for _, n := range m {
				total += n
			}
		}
		bound := float64(total) / float64(cfg.SliceCapacity) / cfg.Window.Seconds()
		rate := func(id string) float64 { return float64(windowCount(id)) / cfg.Window.Seconds() }

		hot := d.Hot()
		inHot := map[string]bool{}
		falsePositives := 0
		for _, h := range hot {
			inHot[h.ID] = true
			if rate(h.ID) >= 0.9*cfg.CoolRate {
				lastWarm[h.ID] = now
			} else if now-lastWarm[h.ID] > cfg.MinHotDuration+slice {
				falsePositives++
			}
			if est, ex := h.RatePerSec, rate(h.ID); est > ex+1e-9 || est < ex-bound {
				t.Errorf("%v: %s rate %g, exact %g, bound %g", now, h.ID, est, ex, bound)
			}
		}
		if now < cfg.Window || now%(500*time.Millisecond) != 0 {
			continue
		}
		// The truth: every document counted in the window.
		clearlyHot, found := 0, 0
		seen := map[string]bool{}
		for _, m := range exact {
			for id := range m {
				if seen[id] {
					continue
				}
				seen[id] = true
				if rate(id) >= 1.1*cfg.HotRate {
					clearlyHot++
					if inHot[id] {
						found++
					}
				}
			}
		}
		precision, recall := 1.0, 1.0
		if len(hot) > 0 {
			precision = 1 - float64(falsePositives)/float64(len(hot))
		}
		if clearlyHot > 0 {
			recall = float64(found) / float64(clearlyHot)
		}
		minPrecision, minRecall = min(minPrecision, precision), min(minRecall, recall)
		t.Logf("%v: %d hot, %d clearly hot, precision %.3f, recall %.3f, worst-case error %.1f/s, %d ids in window",
			now, len(hot), clearlyHot, precision, recall, bound, len(seen))
	}
	if minPrecision < 0.9 || minRecall < 0.9 {
		t.Fatalf("worst precision %.3f, worst recall %.3f; want both >= 0.9", minPrecision, minRecall)
	}
	// Every burst was hot, and has ended more than a window plus
	// MinHotDuration ago, so is cold again.
	final := map[string]bool{}
	for _, h := range d.Hot() {
		final[h.ID] = true
	}
	for _, b := range bursts {
		if _, ok := lastWarm[b.id]; !ok {
			t.Errorf("%s was never hot", b.id)
		}
		if final[b.id] {
			t.Errorf("%s still hot at the end", b.id)
		}
	}
}
