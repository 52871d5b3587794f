package benchsuite

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"docplat/loadgen"
	"docplat/loadgen/scenario"
)

// SearchCPU is the whole cluster's CPU per uncached search, one search at
// a time, as a distribution (the search path's CPU figure is a mean over
// a closed loop).
type SearchCPU struct {
	Method   string         `json:"method"`
	Note     string         `json:"note,omitempty"`
	Failures int            `json:"failures"`
	Samples  []SearchSample `json:"samples"`
	// Overall and per query kind (scenario.Query*), in Kinds' order.
	Overall CPUDist   `json:"overall"`
	Kinds   []CPUDist `json:"kinds"`
	// MeanByRole is the mean µs per search of each role (serve, count,
	// database).
	MeanByRole map[string]float64 `json:"mean_us_by_role"`
	// TicksMean is the mean from /proc/<pid>/stat over the whole series:
	// it should agree with Overall.Mean unless threads exited mid-series.
	TicksMean float64 `json:"ticks_mean_us"`
	// IdleRate is the idle cluster's CPU-s per second that AboveIdle
	// subtracts from each search's window.
	IdleRate float64 `json:"idle_cpu_s_per_s"`
}

// SearchSample is one search: its kind, the cluster's CPU over its window
// (from the previous search's answer to its own), and its latency.
type SearchSample struct {
	Kind      string         `json:"kind"`
	CPU       float64        `json:"cpu_us"`
	AboveIdle float64        `json:"cpu_us_above_idle"`
	Latency   loadgen.Millis `json:"latency_ms"`
}

// CPUDist summarises some searches' CPU, in µs.
type CPUDist struct {
	Kind         string  `json:"kind"`
	N            int     `json:"n"`
	P50          float64 `json:"p50_us"`
	P90          float64 `json:"p90_us"`
	Mean         float64 `json:"mean_us"`
	P50AboveIdle float64 `json:"p50_us_above_idle"`
	P50LatencyMs float64 `json:"p50_latency_ms"`
}

// percentile is the q-quantile (0..1) of sorted by the nearest-rank
// method: the smallest value with at least q of the values at or below
// it. NaN for none.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// distOf summarises samples of kind (every sample for kind "all").
func distOf(kind string, samples []SearchSample) CPUDist {
	var cpu, above, lat []float64
	sum := 0.0
	for _, s := range samples {
		if kind != "all" && s.Kind != kind {
			continue
		}
		cpu, above, lat = append(cpu, s.CPU), append(above, s.AboveIdle), append(lat, s.Latency.Ms())
		sum += s.CPU
	}
	d := CPUDist{Kind: kind, N: len(cpu)}
	if d.N == 0 {
		return d
	}
	slices.Sort(cpu)
	slices.Sort(above)
	slices.Sort(lat)
	d.P50, d.P90, d.Mean = percentile(cpu, 0.5), percentile(cpu, 0.9), sum/float64(d.N)
	d.P50AboveIdle, d.P50LatencyMs = percentile(above, 0.5), percentile(lat, 0.5)
	return d
}

// searchKinds are the query kinds in the tables' order.
var searchKinds = []string{scenario.QueryZh2, scenario.QueryZhPhrase, scenario.QueryEnWord, scenario.QuerySubstring, scenario.QueryMultiTerm}

// measureSearchCPU sends the held-out corpus queries (never sent before in
// the run, so no cache answers them) one at a time through nginx and
// samples every cluster process's threads before and after each.
func (r *runner) measureSearchCPU(ctx context.Context) error {
	if len(r.cpuQueries) == 0 {
		r.log.Warn("no held-out corpus queries: the per-search CPU distribution is not measured", "why", r.searchNote)
		return nil
	}
	procs := map[int]string{}
	for pid, p := range r.cpu.sample().procs {
		if p.Role != RoleGenerator {
			procs[pid] = p.Role
		}
	}
	sc := &SearchCPU{Method: "GET /api/v1/documents?q= through nginx, anonymous, one search at a time, each a corpus query " +
		"not sent before in the run; CPU of every thread of every cluster process from /proc/<pid>/task/*/schedstat (ns) " +
		"from the previous search's answer to this one's", MeanByRole: map[string]float64{}}
	if r.rep.IdleCPU != nil {
		sc.IdleRate = r.rep.IdleCPU.IdleRate()
	}
	client := loadgen.NewClient(1, 0)
	defer client.CloseIdleConnections()
	base := r.c.NginxURL()
	ticksA := r.cpu.sample()
	prev, ok := sampleThreads(procs)
	if !ok {
		r.log.Warn("no /proc/<pid>/task/*/schedstat here: the per-search CPU distribution is not measured")
		return nil
	}
	var errs []string
	for _, q := range r.cpuQueries {
		start := time.Now()
		err := getOK(ctx, client, searchURL(base, q.Q), 0)
		lat := time.Since(start)
		now, _ := sampleThreads(procs)
		total, byRole := now.since(prev)
		window := now.at.Sub(prev.at).Seconds()
		prev = now
		if err != nil {
			sc.Failures++
			if len(errs) < 3 {
				errs = append(errs, err.Error())
			}
			continue
		}
		sc.Samples = append(sc.Samples, SearchSample{Kind: q.Kind, CPU: total, AboveIdle: total - sc.IdleRate*window*1e6,
			Latency: loadgen.Millis(lat)})
		for role, v := range byRole {
			sc.MeanByRole[role] += v
		}
	}
	ticks := newCPU(ticksA, r.cpu.sample(), int64(len(sc.Samples)))
	if n := len(sc.Samples); n > 0 {
		for role := range sc.MeanByRole {
			sc.MeanByRole[role] /= float64(n)
		}
		sc.TicksMean = ticks.PerSuccess
	}
	sc.Overall = distOf("all", sc.Samples)
	for _, k := range searchKinds {
		sc.Kinds = append(sc.Kinds, distOf(k, sc.Samples))
	}
	sc.Note = fmt.Sprintf("%d searches, %d failed", len(r.cpuQueries), sc.Failures)
	if r.cpuStolen > 0 {
		sc.Note += fmt.Sprintf("; %d of the queries were taken from the end of the search measurement's (too few others of some kinds)", r.cpuStolen)
	}
	if len(errs) > 0 {
		sc.Note += " (" + strings.Join(errs, "; ") + ")"
	}
	if r.sharedDB {
		sc.Note += "; MariaDB is the machine's shared server: other clients' queries in a window count too"
	}
	r.rep.SearchCPU = sc
	r.log.Info("search CPU, one at a time", "searches", sc.Overall.N, "p50_us", int(sc.Overall.P50), "p90_us", int(sc.Overall.P90),
		"mean_us", int(sc.Overall.Mean), "ticks_mean_us", int(sc.TicksMean), "failures", sc.Failures)
	if sc.Overall.N == 0 {
		return fmt.Errorf("search CPU: no successful search: %s", sc.Note)
	}
	return nil
}

// searchCPURows is the distribution table: overall, then each kind.
func (s *SearchCPU) rows() [][]string {
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "-"
		}
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	rows := [][]string{{"query kind", "searches", "p50 µs", "p90 µs", "mean µs", "p50 above idle", "p50 latency ms"}}
	for _, d := range append([]CPUDist{s.Overall}, s.Kinds...) {
		if d.N == 0 {
			rows = append(rows, []string{d.Kind, "0", "-", "-", "-", "-", "-"})
			continue
		}
		rows = append(rows, []string{d.Kind, strconv.Itoa(d.N), f(d.P50), f(d.P90), f(d.Mean), f(d.P50AboveIdle),
			strconv.FormatFloat(d.P50LatencyMs, 'f', 2, 64)})
	}
	return rows
}

// legend says how to read the table, with the run's own cross-checks.
func (s *SearchCPU) legend() string {
	roles := make([]string, 0, len(s.MeanByRole))
	for _, role := range []string{RoleServe, RoleCount, RoleDatabase} {
		roles = append(roles, fmt.Sprintf("%s %.0f", role, s.MeanByRole[role]))
	}
	return fmt.Sprintf("%s.\n%s. Mean µs per search by role: %s; the same mean from /proc/<pid>/stat ticks over the whole series: %.0f.\n"+
		"above idle = less the idle cluster's rate (%.3f CPU-s/s) over each search's window. "+
		"zh2 = Chinese two-character word, zh-phrase = longer Chinese phrase, en-word = English word, "+
		"substring = fragment inside a word, multi-term = two terms.\n",
		s.Method, s.Note, strings.Join(roles, ", "), s.TicksMean, s.IdleRate)
}

// Table renders the distribution as aligned text.
func (s *SearchCPU) Table() string {
	var b strings.Builder
	align(&b, s.rows())
	b.WriteString("\n" + s.legend())
	return b.String()
}

// Markdown renders the distribution for bench/HISTORY.md.
func (s *SearchCPU) Markdown() string { return markdown(s.rows()) + "\n" + s.legend() }
