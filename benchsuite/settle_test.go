package benchsuite

import "testing"

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
