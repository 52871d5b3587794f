package benchsuite

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// cpuRow is one measured window of the report, named for the CPU tables.
type cpuRow struct {
	name string
	cpu  *CPU
}

// cpuRows are every measurement, every offered-load step and every
// reference step that has CPU figures, in the report's order.
func (r *Report) cpuRows() []cpuRow {
	var out []cpuRow
	for _, m := range r.Measurements {
		if m.CPU != nil {
			out = append(out, cpuRow{m.Name, m.CPU})
		}
	}
	for _, c := range r.OfferedLoad {
		for _, p := range c.Points {
			if p.CPU != nil {
				out = append(out, cpuRow{fmt.Sprintf("%s @ %s/s", c.Name, rate(p.X)), p.CPU})
			}
		}
	}
	if r.Reference != nil {
		for _, p := range r.Reference.Points {
			if p.CPU != nil {
				out = append(out, cpuRow{fmt.Sprintf("reference %s users", rate(p.X)), p.CPU})
			}
		}
	}
	return out
}

// CPURatio is a's CPU per successful request over base's ("3.1x"); "-"
// when either is unknown.
func CPURatio(a, base *CPU) string {
	if a == nil || base == nil || base.PerSuccess <= 0 || a.Successes == 0 {
		return "-"
	}
	return strconv.FormatFloat(a.PerSuccess/base.PerSuccess, 'f', 2, 64) + "x"
}

func us(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

// cpuCostRows is the CPU-per-request table: every window's CPU per
// successful request (all processes but the generator's), by role, and as
// a multiple of the nginx-static and nethttp baselines of the same run.
func (r *Report) cpuCostRows() [][]string {
	var static, nethttp *CPU
	if m := r.Find("nginx-static"); m != nil {
		static = m.CPU
	}
	if m := r.Find("nethttp"); m != nil {
		nethttp = m.CPU
	}
	rows := [][]string{{"window", "succ", "CPU µs/succ", "above idle", "serve", "count", "database", "x nginx-static", "x nethttp",
		"count share", "generator µs/succ"}}
	for _, row := range r.cpuRows() {
		c := row.cpu
		share := "-"
		if c.Total > 0 {
			share = fmt.Sprintf("%.0f-%.0f%%", 100*c.CountShareMin, 100*c.CountShareMax)
		}
		above := "-"
		if r.IdleCPU != nil && c.Successes > 0 {
			above = us(c.aboveIdle(r.IdleCPU))
		}
		rows = append(rows, []string{row.name, strconv.FormatInt(c.Successes, 10), us(c.PerSuccess), above,
			us(c.PerSuccessByRole[RoleServe]), us(c.PerSuccessByRole[RoleCount]), us(c.PerSuccessByRole[RoleDatabase]),
			CPURatio(c, static), CPURatio(c, nethttp), share, us(c.PerSuccessByRole[RoleGenerator])})
	}
	return rows
}

// processColumn is a process's column in the breakdown: the name without
// a trailing pid, so that nginx's workers add up in one column.
func processColumn(name string) string {
	if i := strings.LastIndexByte(name, ' '); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

// cpuProcessRows is the per-process breakdown: µs of CPU per successful
// request of each process (nginx's workers summed), columns by role.
func (r *Report) cpuProcessRows() [][]string {
	rows := r.cpuRows()
	role := map[string]string{}
	for _, row := range rows {
		for _, p := range row.cpu.Procs {
			role[processColumn(p.Name)] = p.Role
		}
	}
	cols := make([]string, 0, len(role))
	for c := range role {
		cols = append(cols, c)
	}
	order := map[string]int{RoleServe: 0, RoleCount: 1, RoleDatabase: 2, RoleGenerator: 3}
	slices.SortFunc(cols, func(a, b string) int {
		if d := order[role[a]] - order[role[b]]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	out := [][]string{append([]string{"µs CPU/succ"}, cols...)}
	for _, row := range rows {
		sums := map[string]float64{}
		for _, p := range row.cpu.Procs {
			sums[processColumn(p.Name)] += p.Seconds
		}
		line := []string{row.name}
		for _, c := range cols {
			if row.cpu.Successes == 0 {
				line = append(line, "-")
				continue
			}
			line = append(line, us(sums[c]/float64(row.cpu.Successes)*1e6))
		}
		out = append(out, line)
	}
	return out
}

// cpuLegend says what is counted where, under the CPU tables.
const cpuLegend = `CPU = utime+stime from /proc/<pid>/stat of every process of the cluster over the recorded window
(children excluded: each child is measured as a process of its own), divided by the window's successful requests.
serve = nginx (wrapper, master, workers), apps, Redis nodes, the nethttpd baseline; count = stats service,
detectors, Kafka broker (they only count reads); database = MariaDB, which does both (documents' queries and the
stats' writes) and cannot be split here, so "count share" is count/total to (count+database)/total.
The generator (this process: requests, checks, the in-process Redis/MariaDB baseline clients) is not in the total.
Mixed windows (mixed, reference) are per successful request of any kind; their kinds are not attributed.
above idle = CPU µs/succ less the idle cluster's CPU rate (measured with no load before the baselines) over the
window: at low rates the idle loops dominate CPU µs/succ.`

// CPUTable renders the two CPU tables as aligned text.
func (r *Report) CPUTable() string {
	rows := r.cpuCostRows()
	if len(rows) < 2 {
		return ""
	}
	var b strings.Builder
	if r.IdleCPU != nil {
		fmt.Fprintf(&b, "idle cluster: %.3f CPU-s per second (no load, %s)\n\n", r.IdleCPU.IdleRate(), r.IdleCPU.Window)
	}
	align(&b, rows)
	b.WriteString("\nper process (µs of CPU per successful request):\n\n")
	align(&b, r.cpuProcessRows())
	b.WriteString("\n" + cpuLegend + "\n")
	return b.String()
}

// CPUMarkdown renders the CPU tables for bench/HISTORY.md.
func (r *Report) CPUMarkdown() string {
	if len(r.cpuRows()) == 0 {
		return ""
	}
	return markdown(r.cpuCostRows()) + "\nPer process, µs of CPU per successful request:\n\n" +
		markdown(r.cpuProcessRows()) + "\n" + cpuLegend + "\n"
}
