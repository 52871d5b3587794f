package benchsuite

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"docplat/loadgen"
)

// Roles of a process in the CPU figures: what its CPU is counted as.
const (
	RoleServe     = "serve"     // nginx, apps, Redis, the baseline server: answering the request
	RoleCount     = "count"     // stats, detectors, Kafka broker: only counting it
	RoleDatabase  = "database"  // MariaDB: both (the documents' queries and the stats' writes)
	RoleGenerator = "generator" // the suite's own process: sending and checking requests
)

// ProcCPU is one process's CPU time (utime+stime from /proc, children
// excluded) over a measured window.
type ProcCPU struct {
	Name    string  `json:"name"` // "app1", "nginx worker 1234", "mariadbd", "generator"
	Role    string  `json:"role"`
	Seconds float64 `json:"cpu_s"`
}

// CPU is what the machine's processes spent during a measurement's
// recorded window (from the end of warmup to the end of the run), and the
// same per successful request.
type CPU struct {
	Window    loadgen.Millis `json:"window_ms"`
	Successes int64          `json:"successes"`
	Procs     []ProcCPU      `json:"processes"`
	// Seconds by role; Total is every role but the generator's.
	ByRole map[string]float64 `json:"cpu_s_by_role"`
	Total  float64            `json:"cpu_s_total"`
	// PerSuccess is Total over Successes, in microseconds; PerSuccessByRole
	// the same for each role (generator included, for reference).
	PerSuccess       float64            `json:"cpu_us_per_success"`
	PerSuccessByRole map[string]float64 `json:"cpu_us_per_success_by_role"`
	// CountShareMin is the counting processes' share of Total; CountShareMax
	// adds all of MariaDB's (which serves and counts alike and cannot be
	// split here), so the accounting share lies between the two.
	CountShareMin float64 `json:"count_share_min"`
	CountShareMax float64 `json:"count_share_max"`
	// AboveIdle is PerSuccess less what the cluster burns with no load
	// (Report.IdleCPU's rate over this window), in microseconds: at low
	// rates the idle loops (polls, heartbeats, flushes) dominate PerSuccess.
	AboveIdle float64 `json:"cpu_us_per_success_above_idle,omitempty"`
	Note      string  `json:"note,omitempty"`
}

// IdleRate is the CPU-seconds per second of c's window (all roles but the
// generator's): for an idle window, what the cluster burns doing nothing.
func (c *CPU) IdleRate() float64 {
	if c == nil || c.Window <= 0 {
		return 0
	}
	return c.Total / (c.Window.Ms() / 1000)
}

// aboveIdle is PerSuccess less idle's rate over c's window (see AboveIdle).
func (c *CPU) aboveIdle(idle *CPU) float64 {
	if c == nil || idle == nil || c.Successes == 0 {
		return 0
	}
	return (c.Total - idle.IdleRate()*c.Window.Ms()/1000) / float64(c.Successes) * 1e6
}

// cpuSample is every watched process's tick count at one instant.
type cpuSample struct {
	at    time.Time
	procs map[int]ProcCPU // Seconds holds the cumulative CPU at that instant
}

// newCPU computes the window's figures from two samples: a process absent
// from a (started in the window) counts from zero; one absent from b
// (ended in the window) is lost, which only a restart inside a
// measurement would cause.
func newCPU(a, b cpuSample, successes int64) *CPU {
	c := &CPU{Window: loadgen.Millis(b.at.Sub(a.at)), Successes: successes,
		ByRole: map[string]float64{}, PerSuccessByRole: map[string]float64{}}
	for pid, p := range b.procs {
		if prev, ok := a.procs[pid]; ok {
			p.Seconds -= prev.Seconds
		}
		p.Seconds = max(0, p.Seconds)
		c.Procs = append(c.Procs, p)
		c.ByRole[p.Role] += p.Seconds
		if p.Role != RoleGenerator {
			c.Total += p.Seconds
		}
	}
	slices.SortFunc(c.Procs, func(x, y ProcCPU) int {
		if x.Role != y.Role {
			return strings.Compare(x.Role, y.Role)
		}
		return strings.Compare(x.Name, y.Name)
	})
	if successes > 0 {
		c.PerSuccess = c.Total / float64(successes) * 1e6
		for role, s := range c.ByRole {
			c.PerSuccessByRole[role] = s / float64(successes) * 1e6
		}
	}
	if c.Total > 0 {
		c.CountShareMin = c.ByRole[RoleCount] / c.Total
		c.CountShareMax = (c.ByRole[RoleCount] + c.ByRole[RoleDatabase]) / c.Total
	}
	return c
}

// cpuWatch finds the processes to measure: every process of the cluster
// (cluster.sh's pid files, and each one's descendants: the nginx wrapper's
// master and workers), extra ones the suite started, the MariaDB server,
// and this process as the generator.
type cpuWatch struct {
	pidDir string
	dbPid  int // the run's own MariaDB; 0: every mariadbd on the machine
	mu     sync.Mutex
	extra  map[int]string // pid -> name
}

func newCPUWatch(pidDir string, dbPid int) *cpuWatch {
	return &cpuWatch{pidDir: pidDir, dbPid: dbPid, extra: map[int]string{}}
}

// add watches pid as name (serving) until remove.
func (w *cpuWatch) add(pid int, name string) {
	w.mu.Lock()
	w.extra[pid] = name
	w.mu.Unlock()
}

func (w *cpuWatch) remove(pid int) {
	w.mu.Lock()
	delete(w.extra, pid)
	w.mu.Unlock()
}

// roleOf is the role of a cluster.sh process by its name.
func roleOf(name string) string {
	switch {
	case name == "stats", name == "kafka", strings.HasPrefix(name, "hotspot"):
		return RoleCount
	case strings.HasPrefix(name, "mariadbd"):
		return RoleDatabase
	}
	return RoleServe
}

// sample reads the watched processes' CPU now.
func (w *cpuWatch) sample() cpuSample {
	s := cpuSample{at: time.Now(), procs: map[int]ProcCPU{}}
	roots := map[int]string{}
	if ents, err := os.ReadDir(w.pidDir); err == nil {
		for _, e := range ents {
			name, ok := strings.CutSuffix(e.Name(), ".pid")
			if !ok {
				continue
			}
			b, err := os.ReadFile(filepath.Join(w.pidDir, e.Name()))
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && perr == nil {
				roots[pid] = name
			}
		}
	}
	w.mu.Lock()
	for pid, name := range w.extra {
		roots[pid] = name
	}
	w.mu.Unlock()
	procs := allProcs()
	for pid, name := range watchedTree(procs, roots) {
		p := procs[pid]
		s.procs[pid] = ProcCPU{Name: name, Role: roleOf(name), Seconds: float64(p.ticks) / clockTicks}
	}
	for pid, p := range procs {
		if w.dbPid > 0 && pid != w.dbPid {
			continue
		}
		if p.comm == "mariadbd" || p.comm == "mysqld" {
			s.procs[pid] = ProcCPU{Name: "mariadbd", Role: RoleDatabase, Seconds: float64(p.ticks) / clockTicks}
		}
	}
	if self, ok := readProcStat("self"); ok {
		s.procs[os.Getpid()] = ProcCPU{Name: "generator", Role: RoleGenerator, Seconds: float64(self.ticks) / clockTicks}
	}
	return s
}

// watchedTree names each root and all its descendants: a descendant is
// "<root> <what it runs>" ("nginx master", "nginx worker 4242"), so that
// the wrapper, the master and each worker show apart.
func watchedTree(procs map[int]procStat, roots map[int]string) map[int]string {
	children := map[int][]int{}
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	out := map[int]string{}
	var walk func(pid int, root string)
	walk = func(pid int, root string) {
		for _, c := range children[pid] {
			if _, seen := out[c]; seen {
				continue
			}
			out[c] = root + " " + childLabel(c, procs[c].comm)
			walk(c, root)
		}
	}
	for pid, name := range roots {
		if _, ok := procs[pid]; !ok {
			continue
		}
		out[pid] = name
		walk(pid, name)
	}
	return out
}

// childLabel is "master" or "worker <pid>" for nginx's processes (from the
// title they set), else the command and pid.
func childLabel(pid int, comm string) string {
	cmd := readCmdline(pid)
	switch {
	case strings.Contains(cmd, "master process"):
		return "master"
	case strings.Contains(cmd, "worker process"):
		return "worker " + strconv.Itoa(pid)
	case strings.Contains(cmd, "cache manager"), strings.Contains(cmd, "cache loader"):
		return "cache " + strconv.Itoa(pid)
	}
	return comm + " " + strconv.Itoa(pid)
}
