package hotspot

import (
	"time"

	"docplat/internal/envflag"
)

// Bind declares the hot-document detector's flags onto r (its thresholds
// and its lease; the window has 10 slices).
func (r *RunnerConfig) Bind(b *envflag.Set) {
	r.Detector = DefaultConfig()
	b.Float64(&r.Detector.HotRate, "hot-rate", 200, "accesses per second over the window that make a document hot")
	b.Float64(&r.Detector.CoolRate, "hot-cool-rate", 100, "a hot document cools below this rate (hysteresis; less than hot-rate)")
	b.Duration(&r.Detector.Window, "hot-window", time.Second, "sliding window of the hot-document detector, in 10 slices")
	b.Duration(&r.Detector.MinHotDuration, "hot-min-duration", 10*time.Second, "a document stays hot at least this long, and cools only after this long below the cool rate")
	b.Duration(&r.Lease, "hot-lease", 15*time.Second, "a hot entry whose detector stops renewing it is demoted after this long; longer than a consumer-group rebalance")
}
