package benchsuite

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Per-thread CPU from /proc/<pid>/task/<tid>/schedstat, in nanoseconds:
// /proc/<pid>/stat counts in ticks of 10 ms, too coarse for one search's
// few milliseconds. A thread that exits between two samples takes its
// time with it, so the search series cross-checks its sum against the
// tick counters over the whole series (SearchCPU.TicksMean).

// parseSchedstat reads "run_ns wait_ns timeslices": the first field is
// the time the thread ran on a CPU (sum_exec_runtime).
func parseSchedstat(line string) (uint64, bool) {
	f := strings.Fields(line)
	if len(f) < 1 {
		return 0, false
	}
	v, err := strconv.ParseUint(f[0], 10, 64)
	return v, err == nil
}

// threadCPU is every thread's run time of a set of processes at one
// instant, by tid, with each thread's process's role.
type threadCPU struct {
	at      time.Time
	threads map[int]threadRun
}

type threadRun struct {
	role string
	ns   uint64
}

// sampleThreads reads the schedstat of every thread of procs (pid ->
// role). ok is false when schedstat is unavailable (a kernel without
// CONFIG_SCHEDSTATS exposes no such file).
func sampleThreads(procs map[int]string) (threadCPU, bool) {
	s := threadCPU{at: time.Now(), threads: map[int]threadRun{}}
	ok := false
	for pid, role := range procs {
		dir := filepath.Join("/proc", strconv.Itoa(pid), "task")
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name(), "schedstat"))
			if err != nil {
				continue
			}
			if ns, parsed := parseSchedstat(string(b)); parsed {
				s.threads[tid] = threadRun{role: role, ns: ns}
				ok = true
			}
		}
	}
	return s, ok
}

// since is the CPU the threads ran from a to s, in microseconds, in all
// and by role: a thread new in s counts from zero, one gone from s is
// lost (see above).
func (s threadCPU) since(a threadCPU) (total float64, byRole map[string]float64) {
	byRole = map[string]float64{}
	for tid, t := range s.threads {
		d := t.ns
		if prev, ok := a.threads[tid]; ok {
			if prev.ns > t.ns { // a reused tid: a new thread
				prev.ns = 0
			}
			d -= prev.ns
		}
		us := float64(d) / 1e3
		total += us
		byRole[t.role] += us
	}
	return total, byRole
}
