package benchsuite

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Chart files written by WriteCharts; bench/HISTORY.md embeds them from bench/plots/.
const (
	OfferedLoadSVG = "latency-vs-offered-load.svg"
	ConcurrencySVG = "p99-vs-concurrency.svg"
	CPULoadSVG     = "cpu-per-request-vs-offered-load.svg"
	CPURefSVG      = "cpu-per-request-vs-concurrency.svg"
)

// Charts returns the report's charts by file name: p50 and p99 against the
// offered load (one pair of lines per open-loop curve), and p99 and mean
// against concurrency (the reference table).
func (r *Report) Charts() map[string]*Chart {
	out := map[string]*Chart{}
	if len(r.OfferedLoad) > 0 {
		c := &Chart{Title: "Latency vs offered load (open loop, loopback)", XLabel: "offered load (req/s)",
			YLabel: "latency (ms, log scale)", LogY: true}
		for _, curve := range r.OfferedLoad {
			p50, p99 := Series{Name: curve.Name + " p50"}, Series{Name: curve.Name + " p99"}
			for _, p := range curve.Points {
				p50.Points = append(p50.Points, XY{p.X, p.Result.P50.Ms()})
				p99.Points = append(p99.Points, XY{p.X, p.Result.P99.Ms()})
			}
			c.Series = append(c.Series, p50, p99)
		}
		out[OfferedLoadSVG] = c
	}
	if r.Reference != nil && len(r.Reference.Points) > 0 {
		c := &Chart{Title: "p99 vs concurrency (mixed workload through nginx)", XLabel: "concurrent connections (log scale)",
			YLabel: "latency (ms, log scale)", LogX: true, LogY: true}
		p99, mean := Series{Name: "p99"}, Series{Name: "average"}
		for _, p := range r.Reference.Points {
			p99.Points = append(p99.Points, XY{p.X, p.Result.P99.Ms()})
			mean.Points = append(mean.Points, XY{p.X, p.Result.Mean.Ms()})
		}
		c.Series = append(c.Series, p99, mean)
		out[ConcurrencySVG] = c
	}
	if c := r.cpuChart("CPU per successful request vs offered load (whole cluster)", "offered load (req/s)", false, r.OfferedLoad); c != nil {
		out[CPULoadSVG] = c
	}
	if r.Reference != nil {
		if c := r.cpuChart("CPU per successful request vs concurrency (reference mix)", "concurrent connections (log scale)", true, []*Curve{r.Reference}); c != nil {
			out[CPURefSVG] = c
		}
	}
	return out
}

// cpuChart plots the curves' CPU per successful request against their x,
// with the nginx-static and nethttp baselines of the same run as flat lines
// for comparison; nil when no point has CPU figures.
func (r *Report) cpuChart(title, xLabel string, logX bool, curves []*Curve) *Chart {
	c := &Chart{Title: title, XLabel: xLabel, YLabel: "µs of CPU per success (log scale)", LogX: logX, LogY: true}
	lo, hi := 0.0, 0.0
	for _, curve := range curves {
		s := Series{Name: curve.Name}
		for _, p := range curve.Points {
			if p.CPU == nil || p.CPU.PerSuccess <= 0 {
				continue
			}
			s.Points = append(s.Points, XY{p.X, p.CPU.PerSuccess})
			if lo == 0 || p.X < lo {
				lo = p.X
			}
			hi = max(hi, p.X)
		}
		if len(s.Points) > 0 {
			c.Series = append(c.Series, s)
		}
	}
	if len(c.Series) == 0 {
		return nil
	}
	for _, name := range []string{"nginx-static", "nethttp"} {
		if m := r.Find(name); m != nil && m.CPU != nil && m.CPU.PerSuccess > 0 {
			c.Series = append(c.Series, Series{Name: name, Points: []XY{{lo, m.CPU.PerSuccess}, {hi, m.CPU.PerSuccess}}})
		}
	}
	return c
}

// WriteCharts writes every chart of Charts into dir and returns the paths.
func (r *Report) WriteCharts(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	charts := r.Charts()
	names := make([]string, 0, len(charts))
	for n := range charts {
		names = append(names, n)
	}
	slices.Sort(names)
	var paths []string
	for _, n := range names {
		var b bytes.Buffer
		if err := charts[n].WriteSVG(&b); err != nil {
			return nil, err
		}
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("benchsuite: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
