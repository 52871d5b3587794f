package benchsuite

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"docplat/loadgen"
)

// Kinds of Measurement.
const (
	Baseline = "baseline" // what the hardware and the stock servers do
	Path     = "path"     // a docplat path
)

// Measurement is one closed-loop run against one target.
type Measurement struct {
	Name   string `json:"name"`   // "nginx-static", "l1-hit", ...
	Kind   string `json:"kind"`   // Baseline or Path
	Method string `json:"method"` // what was measured, and how, in one line
	// Baseline names the baseline this path is best compared with (its
	// ratio is highlighted in the table); empty for baselines.
	Baseline string          `json:"baseline,omitempty"`
	Note     string          `json:"note,omitempty"` // e.g. "X-Cache: HOT checked after the run"
	Result   *loadgen.Result `json:"result"`
	CPU      *CPU            `json:"cpu,omitempty"` // the cluster's CPU in the recorded window
}

// Point is one step of a curve: the offered load (req/s, open loop) or the
// connections (closed loop) and what the step measured.
type Point struct {
	X      float64         `json:"x"`
	Result *loadgen.Result `json:"result"`
	CPU    *CPU            `json:"cpu,omitempty"`
}

// Curve is a stepped run against one target.
type Curve struct {
	Name   string  `json:"name"`
	Method string  `json:"method"`
	Points []Point `json:"points"`
}

// Machine describes where the figures were taken.
type Machine struct {
	CPUs      int     `json:"cpus"`
	CPUModel  string  `json:"cpu_model"`
	MemoryMB  int64   `json:"memory_mb"`
	Kernel    string  `json:"kernel"`
	GoVersion string  `json:"go_version"`
	LoadAvg   float64 `json:"load_avg_1m_at_start"`
	Note      string  `json:"note,omitempty"`
}

// Settings are the knobs of the run, recorded with its figures.
type Settings struct {
	Connections int            `json:"connections"`
	Warmup      loadgen.Millis `json:"warmup_ms"`
	Duration    loadgen.Millis `json:"duration_ms"`
	BodyBytes   int            `json:"body_bytes"`
	Quick       bool           `json:"quick"`
	Mix         string         `json:"mixed_curve_mix"`
	RefMix      string         `json:"reference_mix"`
	RefThink    loadgen.Millis `json:"reference_think_ms"`
	Only        []string       `json:"only,omitempty"` // the measurements run (-only); empty: all
}

// Report is the whole run, as written to bench/results/<timestamp>.json.
type Report struct {
	Started      time.Time      `json:"started"`
	Finished     time.Time      `json:"finished"`
	Version      string         `json:"version"`
	Machine      Machine        `json:"machine"`
	Settings     Settings       `json:"settings"`
	Measurements []*Measurement `json:"measurements"`
	// OfferedLoad are open-loop curves (x = offered req/s).
	OfferedLoad []*Curve `json:"offered_load"`
	// Reference is the mixed workload through nginx, closed loop
	// (x = concurrent connections): the reference table.
	Reference *Curve `json:"reference"`
	// IdleCPU is the cluster's CPU over a window with no load, before the
	// baselines: what every CPU figure's AboveIdle subtracts.
	IdleCPU *CPU `json:"idle_cpu,omitempty"`
	// SearchCPU is the per-search CPU distribution of uncached searches
	// sent one at a time (searchcpu.go).
	SearchCPU *SearchCPU `json:"search_cpu,omitempty"`
}

// Find returns the measurement called name, or nil.
func (r *Report) Find(name string) *Measurement {
	for _, m := range r.Measurements {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// WriteJSON writes the report, indented, to path (creating its directory).
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("benchsuite: writing %s: %w", path, err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON (to re-render tables and
// charts without measuring again).
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("benchsuite: %s: %w", path, err)
	}
	return &r, nil
}

// WriteAll writes the run's files: resultsDir/<timestamp>.json (the whole
// report), .txt (Table) and .md (the Markdown tables bench/HISTORY.md carries), and the
// charts into plotsDir. It returns the paths written.
func (r *Report) WriteAll(resultsDir, plotsDir string) ([]string, error) {
	stem := filepath.Join(resultsDir, r.Started.UTC().Format("20060102T150405Z"))
	if err := r.WriteJSON(stem + ".json"); err != nil {
		return nil, err
	}
	md := "## Measurements\n\n" + r.Markdown() + "\n## Reference table\n\n" + r.ReferenceMarkdown()
	if cpu := r.CPUMarkdown(); cpu != "" {
		md += "\n## CPU per successful request\n\n" + cpu
	}
	if r.SearchCPU != nil {
		md += "\n## CPU per uncached search, one at a time\n\n" + r.SearchCPU.Markdown()
	}
	for name, text := range map[string]string{stem + ".txt": r.Table(), stem + ".md": md} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	charts, err := r.WriteCharts(plotsDir)
	if err != nil {
		return nil, err
	}
	return append([]string{stem + ".json", stem + ".txt", stem + ".md"}, charts...), nil
}
