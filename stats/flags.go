package stats

import (
	"time"

	"docplat/internal/envflag"
)

// Bind declares how the counters read the access stream onto c (where the
// stream is, brokers and topic, each command declares in its own words).
func (c *StreamConfig) Bind(b *envflag.Set) {
	b.Duration(&c.SessionTimeout, "kafka-session-timeout", 10*time.Second, "a consumer silent this long loses its partitions to the rest of its group (500ms-5m, within the brokers' group.min/max.session.timeout.ms)")
	b.Duration(&c.FlushInterval, "stats-flush-interval", time.Second, "the stats counters write what they consumed this often, in one transaction with their stream positions (10ms-1m)")
}
