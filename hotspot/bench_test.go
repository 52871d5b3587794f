package hotspot

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// zipfIDs returns n ids drawn from Zipf(1.1) over 1,000,000 documents,
// formatted beforehand so that the benchmarks time the detector only.
func zipfIDs(n int) []string {
	r := rand.New(rand.NewPCG(3, 5))
	z := rand.NewZipf(r, 1.1, 1, 999_999)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "doc-" + strconv.FormatUint(z.Uint64(), 10)
	}
	return ids
}

// benchmarkStream observes a Zipf stream at 1,000,000 events/s of event
// time with the default configuration, calling Advance every advanceEvery
// events when it is positive, and reports events per second of CPU time.
func benchmarkStream(b *testing.B, advanceEvery int) {
	ids := zipfIDs(1 << 16)
	d := mustDetector(b, DefaultConfig())
	const step = time.Microsecond // 1,000,000 events/s
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		at := t0.Add(time.Duration(i) * step)
		d.Observe(ids[i&(len(ids)-1)], 1, at)
		if advanceEvery > 0 && i%advanceEvery == 0 {
			d.Advance(at)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkObserve is the cost of one event alone: without Advance the
// window never rotates, so every event lands in one full slice.
func BenchmarkObserve(b *testing.B) { benchmarkStream(b, 0) }

// BenchmarkObserveAdvance calls Advance every 10 ms of event time (10,000
// events), ten times per slice: the cost per event including decisions.
func BenchmarkObserveAdvance(b *testing.B) { benchmarkStream(b, 10_000) }

// BenchmarkAdvance is one Advance over full summaries (default
// configuration), the price of deciding more often.
func BenchmarkAdvance(b *testing.B) {
	ids := zipfIDs(1 << 16)
	d := mustDetector(b, DefaultConfig())
	for i := range 2_000_000 { // 2 s at 1,000,000 events/s
		at := t0.Add(time.Duration(i) * time.Microsecond)
		d.Observe(ids[i&(len(ids)-1)], 1, at)
		if i%100_000 == 0 {
			d.Advance(at)
		}
	}
	now := t0.Add(2 * time.Second)
	b.ReportAllocs()
	for b.Loop() {
		d.Advance(now)
	}
}
