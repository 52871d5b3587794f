package benchsuite

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Everything the suite reads from /proc is parsed here: the machine's
// "cpu" line of /proc/stat (settle) and a process's /proc/<pid>/stat (the
// CPU-per-request figures).

// clockTicks is USER_HZ, the unit of /proc's CPU counters. It is 100 on
// every Linux ABI Go supports (sysconf(_SC_CLK_TCK) would need cgo);
// TestProcTicksAgreeWithGetrusage checks it against the kernel.
const clockTicks = 100

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
	vals, ok := parseUints(f[1:])
	if !ok {
		return cpuTimes{}, false
	}
	var t cpuTimes
	for i, v := range vals {
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

// procStat is what the suite needs of /proc/<pid>/stat.
type procStat struct {
	comm  string
	ppid  int
	ticks uint64 // utime + stime of all the process's threads, children excluded
}

// parseProcStat reads "pid (comm) state ppid ... utime stime cutime cstime
// ...". comm may hold spaces and parentheses, so the fields are counted
// from the last ')'. cutime and cstime (reaped children) are left out: the
// suite measures every child it cares about as a process of its own, and
// adding them would count those twice.
func parseProcStat(line string) (procStat, bool) {
	open, close := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || close < open {
		return procStat{}, false
	}
	f := strings.Fields(line[close+1:])
	// f[0] state, f[1] ppid, ..., f[11] utime, f[12] stime (fields 3, 4, 14, 15 of proc(5)).
	if len(f) < 13 {
		return procStat{}, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, false
	}
	t, ok := parseUints(f[11:13])
	if !ok {
		return procStat{}, false
	}
	return procStat{comm: line[open+1 : close], ppid: ppid, ticks: t[0] + t[1]}, true
}

func parseUints(fields []string) ([]uint64, bool) {
	out := make([]uint64, len(fields))
	for i, s := range fields {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// readProcStat reads /proc/<pid>/stat ("self" for this process).
func readProcStat(pid string) (procStat, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return procStat{}, false
	}
	return parseProcStat(strings.TrimSpace(string(b)))
}

// readCmdline is /proc/<pid>/cmdline with NULs as spaces ("nginx: worker
// process" for an nginx worker, which rewrites its argv).
func readCmdline(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// allProcs reads every process's stat, by pid.
func allProcs() map[int]procStat {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	out := make(map[int]procStat, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readProcStat(e.Name()); ok {
			out[pid] = st
		}
	}
	return out
}
