package benchsuite

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"docplat/loadgen/scenario"
)

// Config are the suite's knobs. DefaultConfig gives the full run (about 6
// minutes on a 2-core machine) or the -quick smoke run.
type Config struct {
	Repo        string        // repository root: scripts/cluster.sh is run from there
	Connections int           // closed-loop connections of every measurement
	Warmup      time.Duration // unrecorded, before each measurement
	Duration    time.Duration // recorded window of each measurement
	Timeout     time.Duration // per request
	BodyBytes   int           // size of the document and of every baseline value
	Docs        int           // documents seeded: the uncached reads and the mixed workload's reads
	CorpusDocs  int           // pages of ../shared/corpus seeded for the search measurement (0: none)
	// SearchSamples is how many uncached corpus searches the per-search
	// CPU distribution sends one at a time (0: none).
	SearchSamples int

	// Open-loop curves: offered rates (req/s), StepDuration each.
	HotRates     []float64
	MixRates     []float64
	StepDuration time.Duration

	// Reference table: closed loop, RefMix through nginx, each user waiting
	// RefThink (uniform 0.5x..1.5x) between requests as readers do.
	RefSteps    []int
	RefWarmup   time.Duration
	RefDuration time.Duration
	RefThink    time.Duration
	RefMix      string
	Mix         string // the open-loop mixed curve's mix

	// OwnMariaDB runs the cluster on a MariaDB server of the run's own
	// instead of the machine's (whose CPU figures include every other
	// client's queries). Not the default: searches measured slower on it
	// (see documentation/benchmarks.md), which is not understood yet.
	OwnMariaDB bool

	// Only, when not empty, names the measurements to run (Measurable):
	// the baselines always run, so that every ratio can be printed.
	Only []string

	Quick   bool
	Version string
}

// Measurable are the names Config.Only takes: the paths' measurements
// and the two sections of curves.
var Measurable = []string{"hot-tier", "l1-hit", "l1-hit-nginx", "l2-hit", "uncached", "search", "upload-3pc", "offered-load", "reference"}

// wants reports whether the run measures name.
func (c *Config) wants(name string) bool {
	return len(c.Only) == 0 || slices.Contains(c.Only, name)
}

// ReferenceMix is the reference table's workload: a lecture's students
// reading (mostly the handout's content), some searching, and the staff's
// occasional uploads and edits.
const ReferenceMix = "read-content=55,read-meta=35,search=8,upload=1,update=1"

// DefaultConfig returns the full suite, or with quick a smoke run of a few
// seconds per measurement that exercises every part.
func DefaultConfig(quick bool) Config {
	c := Config{
		Repo: ".", Connections: 64, Warmup: 2 * time.Second, Duration: 8 * time.Second,
		Timeout: 10 * time.Second, BodyBytes: 10 << 10, Docs: 2000, CorpusDocs: 2291, SearchSamples: 200,
		HotRates:     []float64{1000, 2000, 4000, 8000, 12000},
		MixRates:     []float64{250, 500, 1000, 2000, 3000},
		StepDuration: 5 * time.Second,
		RefSteps:     []int{100, 500, 1000, 5000, 10000},
		RefWarmup:    15 * time.Second, RefDuration: 20 * time.Second, RefThink: 10 * time.Second,
		RefMix: ReferenceMix, Mix: scenario.DefaultMix,
	}
	if quick {
		c.Quick = true
		// 256 documents: l1-hit-nginx rotates over them, and each must stay
		// far below the hot tier's promotion rate at the loop's speed.
		c.Warmup, c.Duration, c.Docs, c.CorpusDocs, c.SearchSamples = 300*time.Millisecond, time.Second, 256, 100, 25
		c.HotRates, c.MixRates, c.StepDuration = []float64{200, 400}, []float64{50, 100}, time.Second
		c.RefSteps, c.RefWarmup, c.RefDuration, c.RefThink = []int{20, 50}, 300*time.Millisecond, time.Second, 100*time.Millisecond
	}
	return c
}

// Validate reports every bad setting at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	if c.Connections < 1 || c.Connections > 100000 {
		bad("connections must be 1..100000, got %d", c.Connections)
	}
	if c.Duration <= 0 || c.Warmup < 0 || c.Timeout <= 0 || c.StepDuration <= 0 || c.RefDuration <= 0 || c.RefWarmup < 0 {
		bad("durations must be > 0 (warmups >= 0)")
	}
	if c.BodyBytes < 1 || c.BodyBytes > 1<<20 {
		bad("body bytes must be 1..1048576 (the hot tier holds up to 1 MiB), got %d", c.BodyBytes)
	}
	if c.Docs < 1 {
		bad("docs must be >= 1, got %d", c.Docs)
	}
	if c.CorpusDocs < 0 {
		bad("corpus docs must be >= 0, got %d", c.CorpusDocs)
	}
	if c.SearchSamples < 0 || c.SearchSamples > 100000 {
		bad("search samples must be 0..100000, got %d", c.SearchSamples)
	}
	for _, r := range append(append([]float64{}, c.HotRates...), c.MixRates...) {
		if r <= 0 {
			bad("rates must be > 0, got %g", r)
		}
	}
	for _, s := range c.RefSteps {
		if s < 1 {
			bad("reference steps must be >= 1, got %d", s)
		}
	}
	if c.RefThink < 0 {
		bad("reference think time must be >= 0")
	}
	if _, err := scenario.ParseMix(c.RefMix); err != nil {
		errs = append(errs, fmt.Errorf("reference mix: %w", err))
	}
	if _, err := scenario.ParseMix(c.Mix); err != nil {
		bad("mix: %v", err)
	}
	for _, n := range c.Only {
		if !slices.Contains(Measurable, n) {
			bad("only: no measurement %q (one of %s)", n, strings.Join(Measurable, ", "))
		}
	}
	return errors.Join(errs...)
}

// maxConns is the most connections any part of the run holds at once.
func (c *Config) maxConns() int {
	n := c.Connections
	for _, s := range c.RefSteps {
		n = max(n, s)
	}
	return n
}
