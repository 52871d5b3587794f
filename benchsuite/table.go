package benchsuite

import (
	"fmt"
	"strconv"
	"strings"

	"docplat/loadgen"
)

// Ratio is a path's throughput over a baseline's, as the table prints it
// ("0.42x"); "-" when either is missing or the baseline measured nothing.
func Ratio(path, base *loadgen.Result) string {
	if path == nil || base == nil || base.SuccessesPerSec <= 0 {
		return "-"
	}
	return strconv.FormatFloat(path.SuccessesPerSec/base.SuccessesPerSec, 'f', 2, 64) + "x"
}

// ErrorRate is failures over requests, in percent ("0.00%"); "-" for none.
func ErrorRate(s *loadgen.Stats) string {
	if s == nil || s.Total == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(s.Failures)/float64(s.Total), 'f', 2, 64) + "%"
}

func ms(m loadgen.Millis) string { return strconv.FormatFloat(m.Ms(), 'f', 2, 64) }

func rate(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

// measurementRows is the suite's table: absolute figures, then the
// throughput of each row as a ratio of every baseline's (successful req/s
// over successful req/s), then the p99 as a multiple of its own baseline's.
func (r *Report) measurementRows() [][]string {
	var bases []*Measurement
	for _, m := range r.Measurements {
		if m.Kind == Baseline {
			bases = append(bases, m)
		}
	}
	head := []string{"measurement", "kind", "succ/s", "mean ms", "p50 ms", "p99 ms", "errors"}
	for _, b := range bases {
		head = append(head, "x "+b.Name)
	}
	head = append(head, "own baseline", "p99 / its p99")
	rows := [][]string{head}
	for _, m := range r.Measurements {
		res := m.Result
		if res == nil {
			continue
		}
		row := []string{m.Name, m.Kind, rate(res.SuccessesPerSec), ms(res.Mean), ms(res.P50), ms(res.P99), ErrorRate(&res.Stats)}
		for _, b := range bases {
			row = append(row, Ratio(res, b.Result))
		}
		own, p99 := "-", "-"
		if b := r.Find(m.Baseline); b != nil && b.Result != nil {
			own = b.Name + " " + Ratio(res, b.Result)
			if b.Result.P99 > 0 {
				p99 = strconv.FormatFloat(float64(res.P99)/float64(b.Result.P99), 'f', 1, 64) + "x"
			}
		}
		rows = append(rows, append(row, own, p99))
	}
	return rows
}

// referenceRows is the reference table: one row per concurrency step.
func (r *Report) referenceRows() [][]string {
	rows := [][]string{{"concurrency", "average ms", "p50 ms", "p99 ms", "error rate", "throughput req/s"}}
	if r.Reference == nil {
		return rows
	}
	for _, p := range r.Reference.Points {
		if p.Result == nil {
			continue
		}
		rows = append(rows, []string{
			strconv.FormatFloat(p.X, 'f', 0, 64), ms(p.Result.Mean), ms(p.Result.P50), ms(p.Result.P99),
			ErrorRate(&p.Result.Stats), rate(p.Result.RequestsPerSec),
		})
	}
	return rows
}

// Table renders the measurements and the reference table as aligned text.
func (r *Report) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "docplat benchmark suite, %s; %d CPUs (%s), load average %.2f at start\n",
		r.Started.Format("2006-01-02 15:04 MST"), r.Machine.CPUs, r.Machine.CPUModel, r.Machine.LoadAvg)
	fmt.Fprintf(&b, "closed loop, %d connections, warmup %s, %s each; x NAME = succ/s over NAME's succ/s\n\n",
		r.Settings.Connections, r.Settings.Warmup, r.Settings.Duration)
	align(&b, r.measurementRows())
	if r.Reference != nil && len(r.Reference.Points) > 0 {
		fmt.Fprintf(&b, "\nreference table: %s\n\n", r.Reference.Method)
		align(&b, r.referenceRows())
	}
	if t := r.CPUTable(); t != "" {
		b.WriteString("\nCPU per successful request (whole cluster, same run):\n\n" + t)
	}
	if r.SearchCPU != nil {
		b.WriteString("\nCPU per uncached search, one at a time (whole cluster, per-thread schedstat):\n\n" + r.SearchCPU.Table())
	}
	for _, c := range r.OfferedLoad {
		fmt.Fprintf(&b, "\noffered load: %s\n\n", c.Method)
		rows := [][]string{{"offered req/s", "succ/s", "p50 ms", "p99 ms", "errors"}}
		for _, p := range c.Points {
			rows = append(rows, []string{rate(p.X), rate(p.Result.SuccessesPerSec), ms(p.Result.P50), ms(p.Result.P99), ErrorRate(&p.Result.Stats)})
		}
		align(&b, rows)
	}
	return b.String()
}

// Markdown renders the measurements table for bench/HISTORY.md.
func (r *Report) Markdown() string { return markdown(r.measurementRows()) }

// ReferenceMarkdown renders the reference table for bench/HISTORY.md.
func (r *Report) ReferenceMarkdown() string { return markdown(r.referenceRows()) }

// align writes rows with the first column left-aligned, the rest right.
func align(b *strings.Builder, rows [][]string) {
	var w []int
	for _, row := range rows {
		for i, c := range row {
			if i >= len(w) {
				w = append(w, 0)
			}
			w[i] = max(w[i], len([]rune(c)))
		}
	}
	for _, row := range rows {
		for i, c := range row {
			pad := strings.Repeat(" ", w[i]-len([]rune(c)))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		b.WriteString("\n")
	}
}

func markdown(rows [][]string) string {
	var b strings.Builder
	for i, row := range rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
		if i == 0 {
			seps := make([]string, len(row))
			for j := range seps {
				seps[j] = "---:"
			}
			seps[0] = "---"
			b.WriteString("|" + strings.Join(seps, "|") + "|\n")
		}
	}
	return b.String()
}
