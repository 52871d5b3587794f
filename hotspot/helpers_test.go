package hotspot

import (
	"testing"
	"time"
)

// t0 is the start of every simulation; tests speak in offsets from it.
var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// source emits accesses to id at rate accesses per second during
// [from, to), as events of n accesses each, evenly spaced.
type source struct {
	id       string
	rate     float64
	from, to time.Duration
	n        uint64
}

// change is one state change decided by Advance, at an offset from t0.
type change struct {
	at       time.Duration
	id       string
	promoted bool
}

// simulate feeds srcs to d from start to end, calling Advance every step,
// and returns every promotion and demotion in order.
func simulate(d *Detector, srcs []source, start, end, step time.Duration) []change {
	next := make([]float64, len(srcs)) // seconds from t0 of each source's next event
	for i, s := range srcs {
		next[i] = max(s.from, start).Seconds()
	}
	var changes []change
	for now := start + step; now <= end; now += step {
		for i, s := range srcs {
			n := max(s.n, 1)
			gap := float64(n) / s.rate
			for next[i] < now.Seconds() && next[i] < s.to.Seconds() {
				at := time.Duration(next[i] * float64(time.Second))
				d.Observe(s.id, n, t0.Add(at))
				next[i] += gap
			}
		}
		promoted, demoted := d.Advance(t0.Add(now))
		for _, id := range promoted {
			changes = append(changes, change{now, id, true})
		}
		for _, id := range demoted {
			changes = append(changes, change{now, id, false})
		}
	}
	return changes
}

func mustDetector(t testing.TB, cfg Config) *Detector {
	t.Helper()
	d, err := NewDetector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// testConfig is small and round: a 1 s window of 100 ms slices, hot at
// 200/s, cold under 100/s for 2 s.
func testConfig() Config {
	return Config{
		Window:         time.Second,
		Slices:         10,
		SliceCapacity:  256,
		HotRate:        200,
		CoolRate:       100,
		MinHotDuration: 2 * time.Second,
		MaxHot:         16,
	}
}
