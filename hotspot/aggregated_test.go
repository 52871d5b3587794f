package hotspot

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"docplat/events"
)

// observer feeds published (aggregated) events to a detector.
type observer struct{ d *Detector }

func (o observer) Publish(a events.Access) { o.d.Observe(a.DocumentID, uint64(a.N()), a.At) }

// TestAggregatedInputAgainstExactCounts feeds the same reads (a Zipf(1.1)
// background over 100,000 ids at 4,000 reads/s and two bursts, 400/s and
// 3,000/s, from nothing) to two detectors: one read by read, one through
// two instances' access aggregators publishing every 50 ms, as the app
// does. Both advance every 50 ms, as the runner does. With aggregated
// input the hot set must match the exact counts as well as before
// (precision and recall at least 0.9 against the clearly hot and clearly
// cold, as in TestHotSetAgainstExactCountsUnderZipfWithBursts), each
// burst must be promoted at most one aggregation window (plus one
// Advance) after it was with raw input, and demoted once it ended.
func TestAggregatedInputAgainstExactCounts(t *testing.T) {
	cfg := Config{Window: time.Second, Slices: 10, SliceCapacity: 4096, HotRate: 200, CoolRate: 100,
		MinHotDuration: time.Second, MaxHot: 500}
	raw, agg := mustDetector(t, cfg), mustDetector(t, cfg)
	const (
		step       = 50 * time.Millisecond // the runner's tick and the aggregation window
		background = 4000                  // reads/s
		end        = 6 * time.Second
	)
	var instances [2]*events.Aggregator
	for i := range instances {
		a, err := events.NewAggregator(observer{agg}, events.AggregatorConfig{Window: step})
		if err != nil {
			t.Fatal(err)
		}
		instances[i] = a
	}
	bursts := []source{
		{id: "burst-slow", rate: 400, from: 1030 * time.Millisecond, to: 3 * time.Second},
		{id: "burst-lecture", rate: 3000, from: 2210 * time.Millisecond, to: 2900 * time.Millisecond},
	}
	r := rand.New(rand.NewPCG(10, 2))
	z := rand.NewZipf(r, 1.1, 1, 99_999)
	slice := cfg.Window / time.Duration(cfg.Slices)
	exact := make([]map[string]uint64, cfg.Slices) // per slice, modulo Slices
	for i := range exact {
		exact[i] = map[string]uint64{}
	}
	rate := func(id string) float64 {
		var n uint64
		for _, m := range exact {
			n += m[id]
		}
		return float64(n) / cfg.Window.Seconds()
	}
	read := func(id string, at time.Duration, i int) {
		raw.Observe(id, 1, t0.Add(at))
		instances[i%2].Publish(events.Access{DocumentID: id, Kind: "view", At: t0.Add(at)})
		exact[int(at/slice)%cfg.Slices][id]++
	}
	promotedRaw, promotedAgg, lastWarm := map[string]time.Duration{}, map[string]time.Duration{}, map[string]time.Duration{}
	next := make([]time.Duration, len(bursts))
	for i, b := range bursts {
		next[i] = b.from
	}
	minPrecision, minRecall := 1.0, 1.0
	n := 0
	for now := time.Duration(0); now < end; now += step {
		if now%slice == 0 {
			clear(exact[int(now/slice)%cfg.Slices])
		}
		per := int(background * step.Seconds())
		for i := range per {
			read("doc-"+strconv.FormatUint(z.Uint64(), 10), now+time.Duration(i)*step/time.Duration(per), n)
			n++
		}
		for i, b := range bursts {
			gap := time.Duration(float64(time.Second) / b.rate)
			for ; next[i] < now+step && next[i] < b.to; next[i] += gap {
				read(b.id, next[i], n)
				n++
			}
		}
		// The worst case of the pipeline: a window's events reach the
		// detector just after its tick, so they count a tick later.
		upRaw, _ := raw.Advance(t0.Add(now + step))
		upAgg, _ := agg.Advance(t0.Add(now + step))
		for _, a := range instances {
			a.Flush()
		}
		for _, id := range upRaw {
			if _, ok := promotedRaw[id]; !ok {
				promotedRaw[id] = now + step
			}
		}
		for _, id := range upAgg {
			if _, ok := promotedAgg[id]; !ok {
				promotedAgg[id] = now + step
			}
		}
		if now+step < cfg.Window || (now+step)%(500*time.Millisecond) != 0 {
			continue
		}
		hot := agg.Hot()
		inHot := map[string]bool{}
		falsePositives := 0
		for _, h := range hot {
			inHot[h.ID] = true
			if rate(h.ID) >= 0.9*cfg.CoolRate {
				lastWarm[h.ID] = now + step
			} else if now+step-lastWarm[h.ID] > cfg.MinHotDuration+step {
				falsePositives++
			}
		}
		clearlyHot, found := 0, 0
		seen := map[string]bool{}
		for _, m := range exact {
			for id := range m {
				if !seen[id] && rate(id) >= 1.1*cfg.HotRate {
					clearlyHot++
					if inHot[id] {
						found++
					}
				}
				seen[id] = true
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
		t.Logf("%v: %d hot, %d clearly hot, precision %.3f, recall %.3f", now+step, len(hot), clearlyHot, precision, recall)
	}
	if minPrecision < 0.9 || minRecall < 0.9 {
		t.Errorf("worst precision %.3f, worst recall %.3f with aggregated input; want both >= 0.9", minPrecision, minRecall)
	}
	final := map[string]bool{}
	for _, h := range agg.Hot() {
		final[h.ID] = true
	}
	for _, b := range bursts {
		r, okR := promotedRaw[b.id]
		a, okA := promotedAgg[b.id]
		if !okR || !okA {
			t.Errorf("%s: promoted with raw input %v (at %v), with aggregated input %v (at %v)", b.id, okR, r, okA, a)
			continue
		}
		t.Logf("%s promoted %v after its start read by read, %v aggregated", b.id, r-b.from, a-b.from)
		if a > r+2*step {
			t.Errorf("%s promoted at %v with aggregated input, %v read by read: more than a window and a tick later", b.id, a, r)
		}
		if final[b.id] {
			t.Errorf("%s still hot at the end", b.id)
		}
	}
}
