package loadgen

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Millis is a duration that marshals to JSON as a float number of
// milliseconds (nanosecond precision), e.g. 1.5 for 1.5ms.
type Millis time.Duration

// Duration converts back to a time.Duration.
func (m Millis) Duration() time.Duration { return time.Duration(m) }

// Ms is the value in milliseconds.
func (m Millis) Ms() float64 { return float64(m) / float64(time.Millisecond) }

func (m Millis) String() string { return time.Duration(m).String() }

// MarshalJSON writes the milliseconds as a JSON number.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, m.Ms(), 'f', -1, 64), nil
}

// UnmarshalJSON reads a JSON number of milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("loadgen: milliseconds: %w", err)
	}
	*m = Millis(math.Round(f * float64(time.Millisecond)))
	return nil
}

// Stats are the figures of one series (all requests, or one Request.Name).
// Latency fields are in milliseconds in JSON.
type Stats struct {
	Total     int64 `json:"total"`
	Successes int64 `json:"successes"`
	Failures  int64 `json:"failures"`
	// Shed counts the failures that were clean refusals: 503 with
	// Retry-After (ShedClass). They are part of Failures.
	Shed int64 `json:"shed"`
	// FailuresBy counts failures by class: "status 503", "timeout",
	// "connection refused", "overload: max in flight", ...
	FailuresBy map[string]int64 `json:"failures_by"`

	RequestsPerSec  float64 `json:"requests_per_sec"`
	SuccessesPerSec float64 `json:"successes_per_sec"`
	FailuresPerSec  float64 `json:"failures_per_sec"`

	// Mean is the exact mean latency; MeanSlowest10 the mean of the slowest
	// 10% (exact when MeanSlowest10Exact, else within 0.1%; see package doc).
	Mean               Millis `json:"mean_ms"`
	MeanSlowest10      Millis `json:"mean_slowest10_ms"`
	MeanSlowest10Exact bool   `json:"mean_slowest10_exact"`

	// Percentiles from the HDR histogram (3 significant digits); Max exact.
	P50  Millis `json:"p50_ms"`
	P90  Millis `json:"p90_ms"`
	P99  Millis `json:"p99_ms"`
	P999 Millis `json:"p999_ms"`
	Max  Millis `json:"max_ms"`
}

// Result is the outcome of Run: the overall Stats (embedded, so r.Total,
// r.P99...) and the breakdown by Request.Name.
type Result struct {
	Mode string `json:"mode"`
	// Rate (open) or Users (closed) as configured; 0 for stepped runs.
	Rate     float64 `json:"rate,omitempty"`
	Users    int     `json:"users,omitempty"`
	Warmup   Millis  `json:"warmup_ms"`
	Duration Millis  `json:"duration_ms"`
	// Elapsed is the measured window: end of warmup to the last completion.
	Elapsed Millis `json:"elapsed_ms"`
	// MaxSendLag is the largest delay between an open-loop request's
	// intended time and its actual send (slot wait included).
	MaxSendLag Millis `json:"max_send_lag_ms"`

	Stats
	ByName map[string]*Stats `json:"by_name,omitempty"`
}

// tableColumns are the headers of Table's main table.
var tableColumns = []string{
	"name", "requests", "successes", "failures", "shed", "req/s", "succ/s", "fail/s",
	"mean ms", "slowest10% ms", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
}

func statsRow(name string, s *Stats) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	ms := func(m Millis) string { return strconv.FormatFloat(m.Ms(), 'f', 3, 64) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	return []string{
		name, i(s.Total), i(s.Successes), i(s.Failures), i(s.Shed),
		f(s.RequestsPerSec), f(s.SuccessesPerSec), f(s.FailuresPerSec),
		ms(s.Mean), ms(s.MeanSlowest10), ms(s.P50), ms(s.P90), ms(s.P99), ms(s.P999), ms(s.Max),
	}
}

// alignRows lays out rows with the first column left-aligned and the others
// right-aligned, two spaces apart.
func alignRows(b *strings.Builder, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			switch {
			case i == 0:
				b.WriteString(c)
				if len(r) > 1 {
					b.WriteString(pad)
				}
			default:
				b.WriteString("  ")
				b.WriteString(pad)
				b.WriteString(c)
			}
		}
		b.WriteString("\n")
	}
}

// Table renders the Result as aligned text: a summary line, one row for all
// requests ("all") and one per name, then the failures by class.
func (r *Result) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mode %s", r.Mode)
	if r.Rate > 0 {
		fmt.Fprintf(&b, ", rate %g req/s", r.Rate)
	}
	if r.Users > 0 {
		fmt.Fprintf(&b, ", users %d", r.Users)
	}
	fmt.Fprintf(&b, ", warmup %s, duration %s, elapsed %s",
		r.Warmup.Duration().Round(time.Millisecond), r.Duration.Duration().Round(time.Millisecond),
		r.Elapsed.Duration().Round(time.Millisecond))
	if r.Mode == Open {
		fmt.Fprintf(&b, ", max send lag %.3f ms", r.MaxSendLag.Ms())
	}
	if !r.MeanSlowest10Exact {
		b.WriteString(" (slowest10% from buckets, within 0.1%)")
	}
	b.WriteString("\n\n")

	names := r.names()
	rows := [][]string{tableColumns, statsRow("all", &r.Stats)}
	for _, n := range names {
		rows = append(rows, statsRow(n, r.ByName[n]))
	}
	alignRows(&b, rows)

	if r.Failures > 0 {
		b.WriteString("\nfailures\n")
		frows := [][]string{{"name", "class", "count", "share"}}
		add := func(name string, s *Stats) {
			classes := make([]string, 0, len(s.FailuresBy))
			for c := range s.FailuresBy {
				classes = append(classes, c)
			}
			// Largest first, then by name.
			slices.SortFunc(classes, func(a, c string) int {
				if d := s.FailuresBy[c] - s.FailuresBy[a]; d != 0 {
					if d > 0 {
						return 1
					}
					return -1
				}
				return strings.Compare(a, c)
			})
			for _, c := range classes {
				n := s.FailuresBy[c]
				frows = append(frows, []string{name, c, strconv.FormatInt(n, 10),
					strconv.FormatFloat(100*float64(n)/float64(max(s.Total, 1)), 'f', 2, 64) + "%"})
			}
		}
		add("all", &r.Stats)
		for _, n := range names {
			add(n, r.ByName[n])
		}
		// The class column reads better left-aligned: merge name and class.
		alignFailures(&b, frows)
	}
	return b.String()
}

// alignFailures writes name and class left-aligned, count and share right.
func alignFailures(b *strings.Builder, rows [][]string) {
	w := make([]int, 4)
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], len(c))
		}
	}
	for _, r := range rows {
		fmt.Fprintf(b, "  %-*s  %-*s  %*s  %*s\n", w[0], r[0], w[1], r[1], w[2], r[2], w[3], r[3])
	}
}

func (r *Result) names() []string {
	names := make([]string, 0, len(r.ByName))
	for n := range r.ByName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
