package events

import "docplat/internal/envflag"

// Bind declares the read aggregation's flags onto c. A BurstCount left 0
// is for the caller to derive (from the detector's thresholds).
func (c *AggregatorConfig) Bind(b *envflag.Set) {
	b.Duration(&c.Window, "access-aggregate-window", DefaultAggregateWindow, "reads are summed per document this long (from the first read after an idle spell) before one event is published to the access stream (1ms-10s); what a crash loses at most")
	b.Int64(&c.BurstCount, "access-burst-count", 0, "a document read this many times within the aggregation window is published at once, so a burst reaches the hot-document detector without waiting for the window; 0: an eighth of hot-rate × hot-window (25 with the defaults)")
	b.Duration(&c.BurstInterval, "access-burst-interval", DefaultBurstInterval, "least time between two early publications of bursting documents (they go out together); adds at most this to a burst's time to hot (1ms-10s)")
}
