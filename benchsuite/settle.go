package benchsuite

import (
	"context"
	"os"
	"strconv"
	"strings"
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

// cpuTimes are the aggregate counters of /proc/stat's "cpu" line.
type cpuTimes struct{ idle, total uint64 }

func (b cpuTimes) idleShareSince(a cpuTimes) float64 {
	if b.total <= a.total {
		return 0
	}
	return float64(b.idle-a.idle) / float64(b.total-a.total)
}

func readCPUTimes() (cpuTimes, bool) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, false
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	return parseCPULine(line)
}

// parseCPULine reads "cpu user nice system idle iowait irq softirq steal
// ...": idle counts idle and iowait (a CPU waiting for the disk is free
// to run the benchmark).
func parseCPULine(line string) (cpuTimes, bool) {
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return cpuTimes{}, false
	}
	var t cpuTimes
	for i, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTimes{}, false
		}
		if i >= 8 { // guest and guest_nice are already counted in user and nice
			break
		}
		t.total += v
		if i == 3 || i == 4 {
			t.idle += v
		}
	}
	return t, true
}
