package benchsuite

import (
	"strings"
	"testing"
	"time"

	"docplat/loadgen"
)

// result builds a Result with the figures the tables read.
func result(succPerSec float64, mean, p99 time.Duration, total, failures int64) *loadgen.Result {
	return &loadgen.Result{Stats: loadgen.Stats{SuccessesPerSec: succPerSec, RequestsPerSec: succPerSec,
		Mean: loadgen.Millis(mean), P50: loadgen.Millis(mean / 2), P99: loadgen.Millis(p99),
		Total: total, Successes: total - failures, Failures: failures}}
}

func TestRatio(t *testing.T) {
	for _, tc := range []struct {
		name       string
		path, base *loadgen.Result
		want       string
	}{
		{"quarter", result(250, 0, 0, 1, 0), result(1000, 0, 0, 1, 0), "0.25x"},
		{"faster than the baseline", result(3000, 0, 0, 1, 0), result(1000, 0, 0, 1, 0), "3.00x"},
		{"baseline measured nothing", result(250, 0, 0, 1, 0), result(0, 0, 0, 0, 0), "-"},
		{"no baseline", result(250, 0, 0, 1, 0), nil, "-"},
		{"no path", nil, result(1000, 0, 0, 1, 0), "-"},
	} {
		if got := Ratio(tc.path, tc.base); got != tc.want {
			t.Errorf("%s: Ratio = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestErrorRate(t *testing.T) {
	for _, tc := range []struct {
		total, failures int64
		want            string
	}{{0, 0, "-"}, {200, 0, "0.00%"}, {200, 1, "0.50%"}, {3, 3, "100.00%"}} {
		if got := ErrorRate(&result(1, 0, 0, tc.total, tc.failures).Stats); got != tc.want {
			t.Errorf("ErrorRate(%d of %d) = %q, want %q", tc.failures, tc.total, got, tc.want)
		}
	}
}

func sampleReport() *Report {
	return &Report{
		Started:  time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
		Machine:  Machine{CPUs: 2, CPUModel: "test CPU"},
		Settings: Settings{Connections: 64, Warmup: loadgen.Millis(time.Second), Duration: loadgen.Millis(8 * time.Second)},
		Measurements: []*Measurement{
			{Name: "nginx-static", Kind: Baseline, Result: result(40000, time.Millisecond, 4*time.Millisecond, 320000, 0)},
			{Name: "nethttp", Kind: Baseline, Result: result(20000, 2*time.Millisecond, 5*time.Millisecond, 160000, 0)},
			{Name: "hot-tier", Kind: Path, Baseline: "nginx-static", Result: result(30000, time.Millisecond, 8*time.Millisecond, 240000, 0)},
			{Name: "l1-hit", Kind: Path, Baseline: "nethttp", Result: result(5000, 10*time.Millisecond, 50*time.Millisecond, 40000, 400)},
		},
		OfferedLoad: []*Curve{{Name: "hot tier", Method: "open", Points: []Point{
			{X: 1000, Result: result(1000, time.Millisecond, 2*time.Millisecond, 1000, 0)},
			{X: 2000, Result: result(2000, 2*time.Millisecond, 9*time.Millisecond, 2000, 0)},
		}}},
		Reference: &Curve{Name: "reference", Method: "closed", Points: []Point{
			{X: 100, Result: result(3000, 20*time.Millisecond, 90*time.Millisecond, 30000, 0)},
			{X: 10000, Result: result(2500, 900*time.Millisecond, 4*time.Second, 25000, 250)},
		}},
	}
}

// row returns the fields of the table line that starts with name.
func row(t *testing.T, table, name string) []string {
	t.Helper()
	for l := range strings.SplitSeq(table, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return f
		}
	}
	t.Fatalf("no row %q in\n%s", name, table)
	return nil
}

func TestTableGivesEveryRowItsRatioToEveryBaseline(t *testing.T) {
	table := sampleReport().Table()
	// measurement kind succ/s mean p50 p99 errors x-static x-nethttp own-name own-ratio p99-ratio
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"nginx-static", []string{"nginx-static", "baseline", "40000", "1.00", "0.50", "4.00", "0.00%", "1.00x", "2.00x", "-", "-"}},
		{"hot-tier", []string{"hot-tier", "path", "30000", "1.00", "0.50", "8.00", "0.00%", "0.75x", "1.50x", "nginx-static", "0.75x", "2.0x"}},
		{"l1-hit", []string{"l1-hit", "path", "5000", "10.00", "5.00", "50.00", "1.00%", "0.12x", "0.25x", "nethttp", "0.25x", "10.0x"}},
	} {
		got := row(t, table, tc.name)
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("row %s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
	if got := row(t, table, "10000"); strings.Join(got, " ") != "10000 900.00 450.00 4000.00 1.00% 2500" {
		t.Errorf("reference row: %q", got)
	}
}

func TestMarkdownTablesHaveAHeaderSeparatorAndOneLinePerRow(t *testing.T) {
	rep := sampleReport()
	for name, md := range map[string]string{"measurements": rep.Markdown(), "reference": rep.ReferenceMarkdown()} {
		lines := strings.Split(strings.TrimSpace(md), "\n")
		want := map[string]int{"measurements": 2 + 4, "reference": 2 + 2}[name]
		if len(lines) != want {
			t.Errorf("%s: %d lines, want %d:\n%s", name, len(lines), want, md)
		}
		if !strings.HasPrefix(lines[1], "|---|---:") {
			t.Errorf("%s: second line is not the separator: %q", name, lines[1])
		}
		cols := strings.Count(lines[0], "|")
		for _, l := range lines {
			if strings.Count(l, "|") != cols {
				t.Errorf("%s: ragged line %q", name, l)
			}
		}
	}
	if !strings.Contains(rep.ReferenceMarkdown(), "| 10000 | 900.00 | 450.00 | 4000.00 | 1.00% | 2500 |") {
		t.Errorf("reference markdown lacks the 10,000 row:\n%s", rep.ReferenceMarkdown())
	}
}
