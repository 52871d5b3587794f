package benchsuite

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"docplat/loadgen"
	"docplat/loadgen/scenario"
)

func TestParseSchedstat(t *testing.T) {
	for line, want := range map[string]uint64{"123456789 2466882 17\n": 123456789, "0 0 0": 0} {
		if got, ok := parseSchedstat(line); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", line, got, ok, want)
		}
	}
	for _, bad := range []string{"", "  \n", "x 1 2", "-5 1 2"} {
		if _, ok := parseSchedstat(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestThreadCPUSinceCountsNewThreadsAndReusedTids(t *testing.T) {
	a := threadCPU{threads: map[int]threadRun{
		1: {RoleServe, 1_000_000}, 2: {RoleDatabase, 5_000_000}, 3: {RoleCount, 9_000_000}, 4: {RoleServe, 700}}}
	b := threadCPU{threads: map[int]threadRun{
		1: {RoleServe, 1_500_000},    // +500 µs
		2: {RoleDatabase, 7_000_000}, // +2000 µs
		// 3 exited: lost
		4: {RoleServe, 300},     // a new thread with a reused tid: 0.3 µs
		5: {RoleCount, 250_000}, // new: 250 µs
	}}
	total, byRole := b.since(a)
	if math.Abs(total-2750.3) > 1e-9 {
		t.Errorf("total %v µs, want 2750.3", total)
	}
	if byRole[RoleServe] != 500.3 || byRole[RoleDatabase] != 2000 || byRole[RoleCount] != 250 {
		t.Errorf("by role %v", byRole)
	}
}

// The kernel's schedstat agrees with getrusage for this process's
// threads: the unit is nanoseconds of CPU.
func TestSampleThreadsMeasuresThisProcess(t *testing.T) {
	self := map[int]string{os.Getpid(): RoleServe}
	a, ok := sampleThreads(self)
	if !ok {
		t.Skip("no schedstat on this kernel")
	}
	deadline := time.Now().Add(30 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	b, _ := sampleThreads(self)
	total, _ := b.since(a)
	// 30 ms of spinning on one thread (others may add a little, a busy
	// machine may take some of it away).
	if total < 10_000 || total > 200_000 {
		t.Errorf("30 ms busy loop measured %.0f µs (%d)", total, x)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for q, want := range map[float64]float64{0.5: 5, 0.9: 9, 0.91: 10, 1: 10, 0: 1, 0.05: 1} {
		if got := percentile(s, q); got != want {
			t.Errorf("q %v: %v, want %v", q, got, want)
		}
	}
	if got := percentile([]float64{7}, 0.5); got != 7 {
		t.Errorf("one value: %v", got)
	}
	if !math.IsNaN(percentile(nil, 0.5)) {
		t.Error("none: want NaN")
	}
}

func sampleSearchCPU() *SearchCPU {
	var samples []SearchSample
	for i := 1; i <= 10; i++ {
		samples = append(samples, SearchSample{Kind: "zh2", CPU: float64(1000 * i), AboveIdle: float64(1000*i - 100),
			Latency: loadgen.Millis(time.Duration(i) * time.Millisecond)})
	}
	samples = append(samples, SearchSample{Kind: "en-word", CPU: 500, AboveIdle: 450, Latency: loadgen.Millis(time.Millisecond)})
	sc := &SearchCPU{Method: "one at a time", Note: "11 searches, 0 failed", Samples: samples,
		MeanByRole: map[string]float64{RoleServe: 1000, RoleDatabase: 4000}, TicksMean: 5100, IdleRate: 0.047}
	sc.Overall = distOf("all", samples)
	for _, k := range searchKinds {
		sc.Kinds = append(sc.Kinds, distOf(k, samples))
	}
	return sc
}

func TestDistOfByKind(t *testing.T) {
	sc := sampleSearchCPU()
	if o := sc.Overall; o.N != 11 || o.P50 != 5000 || o.P90 != 9000 || math.Abs(o.Mean-55500.0/11) > 1e-9 {
		t.Errorf("overall %+v", o)
	}
	zh2 := sc.Kinds[0]
	if zh2.Kind != "zh2" || zh2.N != 10 || zh2.P50 != 5000 || zh2.P90 != 9000 || zh2.Mean != 5500 || zh2.P50AboveIdle != 4900 || zh2.P50LatencyMs != 5 {
		t.Errorf("zh2 %+v", zh2)
	}
	if en := sc.Kinds[2]; en.Kind != "en-word" || en.N != 1 || en.P50 != 500 {
		t.Errorf("en-word %+v", en)
	}
	if none := sc.Kinds[1]; none.N != 0 {
		t.Errorf("zh-phrase %+v", none)
	}
}

func TestSearchCPUTables(t *testing.T) {
	rep := &Report{SearchCPU: sampleSearchCPU()}
	text := rep.Table()
	for _, want := range []string{"CPU per uncached search, one at a time", "query kind", "p50 µs", "zh-phrase", "ticks over the whole series: 5100",
		"serve 1000, count 0, database 4000"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
	var zh2 string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "zh2 ") {
			zh2 = strings.Join(strings.Fields(line), " ")
		}
	}
	if zh2 != "zh2 10 5000 9000 5500 4900 5.00" {
		t.Errorf("zh2 row %q", zh2)
	}
	md := rep.SearchCPU.Markdown()
	if !strings.Contains(md, "| all | 11 | 5000 | 9000 | 5045 | 4900 | 5.00 |") || !strings.Contains(md, "| zh-phrase | 0 | - | - | - | - | - |") {
		t.Errorf("markdown:\n%s", md)
	}
	if strings.Contains((&Report{}).Table(), "one at a time") {
		t.Error("a report without the series prints its section")
	}
}

func TestConfigRejectsNegativeSearchSamples(t *testing.T) {
	c := DefaultConfig(true)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.SearchSamples = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "search samples") {
		t.Errorf("SearchSamples -1: %v", err)
	}
}

func TestHoldOutTakesUnseenQueriesEvenlyByKind(t *testing.T) {
	qs := []scenario.CorpusQuery{{Q: "a", Kind: "zh2"}, {Q: "b", Kind: "zh2"}, {Q: "seen", Kind: "en-word"},
		{Q: "c", Kind: "en-word"}, {Q: "d", Kind: "zh2"}, {Q: "c", Kind: "en-word"}, {Q: "e", Kind: "substring"}}
	seen := map[string]bool{"seen": true}
	// n 5: one of each of the five kinds at most.
	got := holdOut(qs, 5, seen)
	var qsOut []string
	for _, q := range got {
		qsOut = append(qsOut, q.Q)
	}
	if strings.Join(qsOut, ",") != "a,c,e" || !seen["a"] || !seen["c"] || seen["b"] {
		t.Errorf("held %v, seen %v", qsOut, seen)
	}
	if got := holdOut(qs, 10, map[string]bool{}); len(got) != 5 { // quota 2: a b, seen c, d over quota, c repeated, e
		t.Errorf("n 10: %+v", got)
	}
}

func TestStealShortTakesMissingKindsFromThePoolsEnd(t *testing.T) {
	pool := []string{"w1", "z1", "e1", "z2", "e2", "w2"}
	kindOf := map[string]string{"z1": "zh2", "z2": "zh2", "e1": "en-word", "e2": "en-word"}
	held := []scenario.CorpusQuery{{Q: "h1", Kind: "zh2"}}
	// n 5, quota 1: zh2 is full; en-word is short and takes e2, the last.
	pool2, held2, n := stealShort(pool, kindOf, held, 5)
	if n != 1 || strings.Join(pool2, ",") != "w1,z1,e1,z2,w2" || len(held2) != 2 || held2[1].Q != "e2" || held2[1].Kind != "en-word" {
		t.Errorf("stole %d: pool %v held %+v", n, pool2, held2)
	}
	if p, h, n := stealShort(pool, kindOf, held, 1); n != 0 || len(p) != len(pool) || len(h) != 1 {
		t.Errorf("full already: %d %v %v", n, p, h)
	}
}
