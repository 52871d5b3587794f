package benchsuite

import (
	"math"
	"syscall"
	"testing"
	"time"
)

func TestParseCPULine(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		idle, tot uint64
		ok        bool
	}{
		{"full line, guest not counted twice", "cpu  100 5 50 800 20 3 2 10 7 1", 820, 990, true},
		{"old kernel, four fields", "cpu 10 0 10 80", 80, 100, true},
		{"a single CPU's line is not the aggregate", "cpu0 10 0 10 80 0", 0, 0, false},
		{"garbage", "cpu a b c d", 0, 0, false},
		{"empty", "", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseCPULine(tc.line)
			if ok != tc.ok || got.idle != tc.idle || got.total != tc.tot {
				t.Fatalf("parseCPULine(%q) = %+v, %v; want idle %d total %d, %v", tc.line, got, ok, tc.idle, tc.tot, tc.ok)
			}
		})
	}
}

func TestIdleShareSince(t *testing.T) {
	a := cpuTimes{idle: 100, total: 200}
	if got := (cpuTimes{idle: 175, total: 300}).idleShareSince(a); got != 0.75 {
		t.Fatalf("idle share = %v, want 0.75", got)
	}
	if got := a.idleShareSince(a); got != 0 {
		t.Fatalf("no time passed: idle share = %v, want 0", got)
	}
}

func TestParseProcStat(t *testing.T) {
	// Fields after comm: state ppid pgrp session tty_nr tpgid flags minflt
	// cminflt majflt cmajflt utime stime cutime cstime ...
	tests := []struct {
		name  string
		line  string
		want  procStat
		valid bool
	}{
		{"nginx worker", "4242 (nginx) S 4241 4240 4240 0 -1 4194624 120 0 0 0 731 269 5 7 20 0 1 0 9000 1000 200",
			procStat{comm: "nginx", ppid: 4241, ticks: 1000}, true},
		{"comm with spaces and parentheses", "77 (a (b) c) R 1 77 77 0 -1 0 0 0 0 0 12 30 900 900 20 0 8",
			procStat{comm: "a (b) c", ppid: 1, ticks: 42}, true},
		{"children's times are not ours", "9 (x) S 2 9 9 0 -1 0 0 0 0 0 0 0 500 500 20",
			procStat{comm: "x", ppid: 2, ticks: 0}, true},
		{"truncated before stime", "9 (x) S 2 9 9 0 -1 0 0 0 0 0 7", procStat{}, false},
		{"no comm", "9 x S 2 9 9 0 -1 0 0 0 0 0 7 8 0 0", procStat{}, false},
		{"garbage utime", "9 (x) S 2 9 9 0 -1 0 0 0 0 0 a 8 0 0", procStat{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseProcStat(tc.line)
			if ok != tc.valid || got != tc.want {
				t.Fatalf("parseProcStat = %+v, %v; want %+v, %v", got, ok, tc.want, tc.valid)
			}
		})
	}
}

// TestProcTicksAgreeWithGetrusage checks the parser and clockTicks against
// the kernel's own account of this process: burn CPU, then compare
// /proc/self/stat with getrusage(RUSAGE_SELF).
func TestProcTicksAgreeWithGetrusage(t *testing.T) {
	if _, ok := readProcStat("self"); !ok {
		t.Skip("no /proc/self/stat")
	}
	// Burn CPU until the kernel has counted 0.3 s of it (the machine may
	// be shared: wall time says little), for at most 10 s.
	rusage := func() float64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	x := 0
	for deadline := time.Now().Add(10 * time.Second); rusage() < 0.3 && time.Now().Before(deadline); {
		for range 1000000 {
			x++
		}
	}
	st, ok := readProcStat("self")
	fromRusage := rusage()
	if !ok {
		t.Fatal("/proc/self/stat unreadable")
	}
	fromProc := float64(st.ticks) / clockTicks
	// Both count the same threads; /proc rounds down to ticks and the
	// second read happened a little later.
	if fromRusage < 0.3 || math.Abs(fromProc-fromRusage) > 0.05+0.1*fromRusage {
		t.Fatalf("/proc/self/stat says %.3f s of CPU, getrusage %.3f s (x=%d)", fromProc, fromRusage, x)
	}
}
