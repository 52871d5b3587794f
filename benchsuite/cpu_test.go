package benchsuite

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestNewCPUPerSuccessAndShares(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a := cpuSample{at: t0, procs: map[int]ProcCPU{
		10: {"app1", RoleServe, 5.0},
		11: {"nginx worker 11", RoleServe, 1.0},
		20: {"stats", RoleCount, 2.0},
		30: {"mariadbd", RoleDatabase, 100.0},
		40: {"generator", RoleGenerator, 3.0},
		50: {"hotspot1", RoleCount, 1.0}, // gone by b: lost, not negative
	}}
	b := cpuSample{at: t0.Add(2 * time.Second), procs: map[int]ProcCPU{
		10: {"app1", RoleServe, 6.5},
		11: {"nginx worker 11", RoleServe, 1.5},
		12: {"nginx worker 12", RoleServe, 0.25}, // started in the window: from zero
		20: {"stats", RoleCount, 2.5},
		30: {"mariadbd", RoleDatabase, 100.75},
		40: {"generator", RoleGenerator, 4.0},
	}}
	c := newCPU(a, b, 1000)
	if c.Window.Ms() != 2000 || c.Successes != 1000 || len(c.Procs) != 6 {
		t.Fatalf("window %v successes %d procs %d", c.Window.Ms(), c.Successes, len(c.Procs))
	}
	// serve 1.5+0.5+0.25 = 2.25, count 0.5, database 0.75, generator 1 (not in the total).
	if !near(c.ByRole[RoleServe], 2.25) || !near(c.ByRole[RoleCount], 0.5) || !near(c.ByRole[RoleDatabase], 0.75) || !near(c.ByRole[RoleGenerator], 1) {
		t.Fatalf("by role %v", c.ByRole)
	}
	if !near(c.Total, 3.5) || !near(c.PerSuccess, 3500) || !near(c.PerSuccessByRole[RoleGenerator], 1000) {
		t.Fatalf("total %v per success %v µs, generator %v µs", c.Total, c.PerSuccess, c.PerSuccessByRole[RoleGenerator])
	}
	if !near(c.CountShareMin, 0.5/3.5) || !near(c.CountShareMax, 1.25/3.5) {
		t.Fatalf("count share %v..%v", c.CountShareMin, c.CountShareMax)
	}
	if c.Procs[0].Role != RoleCount || c.Procs[len(c.Procs)-1].Role != RoleServe {
		t.Fatalf("processes not ordered by role then name: %+v", c.Procs)
	}
	// Counters that went backwards (a pid reused) count as zero.
	b.procs[20] = ProcCPU{"stats", RoleCount, 1.0}
	if c := newCPU(a, b, 1000); !near(c.ByRole[RoleCount], 0) {
		t.Fatalf("a counter going back counted %v", c.ByRole[RoleCount])
	}
	if c := newCPU(a, b, 0); c.PerSuccess != 0 || len(c.PerSuccessByRole) != 0 {
		t.Fatalf("no success: per success %v %v", c.PerSuccess, c.PerSuccessByRole)
	}
	// Idle: 1 CPU-s over 10 s is 0.1 CPU-s/s; over this 2 s window that is
	// 0.2 of the 3.5 s: (3.5-0.2)/1000 requests = 3300 µs above idle.
	idle := cpuOf(0, ProcCPU{"stats", RoleCount, 1.0})
	if !near(idle.IdleRate(), 0.1) {
		t.Fatalf("idle rate %v", idle.IdleRate())
	}
	if got := c.aboveIdle(idle); !near(got, 3300) {
		t.Fatalf("above idle %v µs, want 3300", got)
	}
}

func TestWatchedTreeNamesDescendants(t *testing.T) {
	procs := map[int]procStat{
		1:   {comm: "init"},
		100: {comm: "docplat", ppid: 1},   // cluster.sh's "nginx": the Go wrapper
		101: {comm: "nginx", ppid: 100},   // its master
		102: {comm: "nginx", ppid: 101},   // a worker
		103: {comm: "nginx", ppid: 101},   // another
		200: {comm: "docplat", ppid: 1},   // app1
		300: {comm: "unrelated", ppid: 1}, // not ours
	}
	got := watchedTree(procs, map[int]string{100: "nginx", 200: "app1", 999: "gone"})
	if len(got) != 5 || got[100] != "nginx" || got[200] != "app1" || !strings.HasPrefix(got[101], "nginx ") || !strings.HasPrefix(got[103], "nginx ") {
		t.Fatalf("watchedTree = %v", got)
	}
	if _, ok := got[300]; ok {
		t.Fatalf("an unrelated process was watched: %v", got)
	}
}

func TestRolesAndColumns(t *testing.T) {
	for name, role := range map[string]string{"app1": RoleServe, "nginx worker 12": RoleServe, "redis2": RoleServe,
		"stats": RoleCount, "kafka": RoleCount, "hotspot2": RoleCount, "mariadbd": RoleDatabase, "nethttpd": RoleServe} {
		if got := roleOf(name); got != role {
			t.Errorf("roleOf(%q) = %q, want %q", name, got, role)
		}
	}
	for in, want := range map[string]string{"nginx worker 4242": "nginx worker", "app1": "app1", "nginx master": "nginx master", "nginx docplat 17": "nginx docplat"} {
		if got := processColumn(in); got != want {
			t.Errorf("processColumn(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCPUWatchSeesItsOwnProcessTree samples this process as the generator
// and a child started under a pid file, the way cluster.sh's are found.
func TestCPUWatchSeesItsOwnProcessTree(t *testing.T) {
	if _, ok := readProcStat("self"); !ok {
		t.Skip("no /proc")
	}
	dir := t.TempDir()
	w := newCPUWatch(dir, 0)
	w.add(os.Getppid(), "parent")
	s := w.sample()
	if p, ok := s.procs[os.Getpid()]; !ok || p.Role != RoleGenerator {
		t.Fatalf("own process %+v %v", p, ok)
	}
	// This test process is a descendant of its parent: named under it, and
	// the generator entry (set last) wins for it.
	if p := s.procs[os.Getppid()]; p.Name != "parent" || p.Role != RoleServe {
		t.Fatalf("parent %+v", p)
	}
	if err := os.WriteFile(dir+"/stats.pid", []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, ok := w.sample().procs[1]; ok && (p.Name != "stats" || p.Role != RoleCount) {
		t.Fatalf("pid-file process %+v", p)
	}
}

// cpuOf is a CPU of successes requests with the given seconds by process.
func cpuOf(successes int64, procs ...ProcCPU) *CPU {
	a := cpuSample{at: time.Unix(0, 0), procs: map[int]ProcCPU{}}
	b := cpuSample{at: time.Unix(10, 0), procs: map[int]ProcCPU{}}
	for i, p := range procs {
		b.procs[i+1] = p
	}
	return newCPU(a, b, successes)
}

func TestCPUTables(t *testing.T) {
	rep := sampleReport()
	rep.Find("nginx-static").CPU = cpuOf(100000, ProcCPU{"nginx worker 7", RoleServe, 1.5}, ProcCPU{"nginx worker 8", RoleServe, 1.5},
		ProcCPU{"generator", RoleGenerator, 4}) // 30 µs
	rep.Find("nethttp").CPU = cpuOf(100000, ProcCPU{"nethttpd", RoleServe, 6}) // 60 µs
	rep.Find("hot-tier").CPU = cpuOf(100000, ProcCPU{"nginx worker 7", RoleServe, 4.5}, ProcCPU{"stats", RoleCount, 1.0},
		ProcCPU{"mariadbd", RoleDatabase, 0.5}) // 60 µs: 2x static, 1x nethttp
	rep.OfferedLoad[0].Points[1].CPU = cpuOf(1000, ProcCPU{"app1", RoleServe, 0.09}) // 90 µs
	text := rep.CPUTable()
	for _, want := range []string{
		"hot-tier", "  60  ", "2.00x", "1.00x", "17-25%", // count 1.0 of 6 s, with MariaDB 1.5 of 6
		"hot tier @ 2000/s", "3.00x",
		"nginx worker", "nethttpd", "mariadbd", "generator", "count share",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("CPU table lacks %q:\n%s", want, text)
		}
	}
	rows := rep.cpuProcessRows()
	// nginx's two workers add up in one column: 3 s / 100000 = 30 µs.
	col := -1
	for i, h := range rows[0] {
		if h == "nginx worker" {
			col = i
		}
	}
	if col < 0 || rows[1][0] != "nginx-static" || rows[1][col] != "30" {
		t.Fatalf("per-process rows %v", rows)
	}
	if md := rep.CPUMarkdown(); !strings.Contains(md, "| hot-tier | 100000 | 60 | - |") {
		t.Errorf("markdown:\n%s", md)
	}
	rep.IdleCPU = cpuOf(0, ProcCPU{"stats", RoleCount, 1.0}) // 0.1 CPU-s/s: 1 s of the hot tier's 10 s window
	text = rep.CPUTable()
	hotLine := ""
	for l := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(l, "hot-tier ") && hotLine == "" {
			hotLine = l
		}
	}
	// 60 µs per request, less 0.1 CPU-s/s x 10 s over 100000 requests.
	if f := strings.Fields(hotLine); !strings.Contains(text, "idle cluster: 0.100 CPU-s per second") || len(f) < 4 || f[2] != "60" || f[3] != "50" {
		t.Errorf("CPU table with the idle figure:\n%s", text)
	}
	if (&Report{}).CPUTable() != "" || (&Report{}).CPUMarkdown() != "" {
		t.Error("a report without CPU figures renders CPU tables")
	}
	charts := rep.Charts()
	c := charts[CPULoadSVG]
	if c == nil || len(c.Series) != 3 || c.Series[1].Name != "nginx-static" || c.Series[1].Points[0].Y != 30 {
		t.Fatalf("CPU chart %+v", c)
	}
}
