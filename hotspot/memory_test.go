package hotspot

import (
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestMemoryBoundedOverTenMillionDistinctIDs feeds 10,000,000 distinct ids,
// each seen once, plus one document read at 5*HotRate, over 10 s of event
// time. The counters in use never exceed the configured capacity, the live
// heap after GC, detector included, grows by less than 64 MiB, and the hot
// document is found.
// A memory check, not a timing one.
func TestMemoryBoundedOverTenMillionDistinctIDs(t *testing.T) {
	if testing.Short() {
		t.Skip("feeds 10,000,000 events")
	}
	const (
		distinct  = 10_000_000
		span      = 10 * time.Second
		maxGrowth = 64 << 20
	)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	// The whole detector counts: its memory is bounded from the start.
	cfg := DefaultConfig()
	d := mustDetector(t, cfg)
	capacity := (cfg.Slices + 1) * cfg.SliceCapacity
	if got := d.Stats().Capacity; got != capacity {
		t.Fatalf("capacity %d, want (Slices+1)*SliceCapacity = %d", got, capacity)
	}

	step := span / distinct // 1 µs per distinct id
	hotEvery := int(time.Second / time.Duration(5*cfg.HotRate) / step)
	var buf []byte
	var promotedAt time.Duration = -1
	for i := range distinct {
		at := time.Duration(i) * step
		buf = strconv.AppendInt(append(buf[:0], "cold-"...), int64(i), 10)
		d.Observe(string(buf), 1, t0.Add(at))
		if i%hotEvery == 0 {
			d.Observe("lecture", 1, t0.Add(at))
		}
		if i%10_000 == 0 { // Advance every 10 ms
			promoted, _ := d.Advance(t0.Add(at))
			if promotedAt < 0 && slices.Contains(promoted, "lecture") {
				promotedAt = at
			}
			if s := d.Stats(); s.Tracked > capacity {
				t.Fatalf("at %v: %d counters tracked, capacity %d", at, s.Tracked, capacity)
			}
		}
	}

	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	s := d.Stats()
	t.Logf("%d events, %d counters tracked of %d, heap growth %.1f MiB, lecture promoted at %v",
		s.Events, s.Tracked, s.Capacity, float64(growth)/(1<<20), promotedAt)
	if growth > maxGrowth {
		t.Fatalf("heap grew by %d bytes, want under %d", growth, maxGrowth)
	}
	if promotedAt < 0 {
		t.Fatal("the hot document was never promoted")
	}
	if hot := d.Hot(); len(hot) != 1 || hot[0].ID != "lecture" {
		t.Fatalf("hot set %+v, want only the lecture", hot)
	}
	runtime.KeepAlive(d)
}
