package benchsuite

import (
	"context"
	"strconv"
	"time"
)

// settleIdle is the share of CPU time that must be idle before a section
// starts. The cluster's own idle loops stay well under the rest.
const settleIdle = 0.7

// settle waits, up to limit, until the machine's CPUs are mostly idle, so
// that one section's aftermath (MariaDB flushing the uploads just made,
// Mroonga merging its index, the stats consumers catching up) is not
// measured as the next section's latency. Where /proc/stat cannot be read
// it returns at once.
func (r *runner) settle(ctx context.Context, section string, limit time.Duration) {
	start := time.Now()
	idle := -1.0
	for time.Since(start) < limit {
		a, ok := readCPUTimes()
		if !ok {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
		b, ok := readCPUTimes()
		if !ok {
			return
		}
		if idle = b.idleShareSince(a); idle >= settleIdle {
			break
		}
	}
	r.log.Info("settled before section", "section", section, "waited", time.Since(start).Round(time.Millisecond),
		"cpu_idle", strconv.FormatFloat(idle, 'f', 2, 64), "limit_reached", idle < settleIdle)
}
