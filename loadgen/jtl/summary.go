// Package jtl summarizes JMeter results files (.jtl, CSV with a header line)
// with loadgen's statistics, so JMeter runs and `docplat-bench loadgen` runs
// are reported with the same figures: totals, failures by class, rates, exact
// mean, mean of the slowest 10%, HDR percentiles and exact max.
//
// It reads files; it never runs JMeter.
package jtl

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"docplat/loadgen"
)

// ErrNoSamples means the file holds a header (or nothing) but no sample: the
// run did not happen, whatever JMeter's exit status said.
var ErrNoSamples = errors.New("jtl: the results file has no samples")

// Summary is the outcome of a .jtl file.
type Summary struct {
	*loadgen.Result
	// First and Last bound the samples: earliest start, latest end.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// required are the CSV columns Summarize needs (JMeter's default names).
var required = []string{"timeStamp", "elapsed", "label", "responseCode", "success"}

// Summarize reads a CSV .jtl. timeStamp must be the sample's start in epoch
// milliseconds (JMeter's -Jsampleresult.timestamp.start=true; with end stamps
// the window shifts by one latency, the rest is unchanged). A sample is a
// success when its success column is true; failures are classed "status N"
// for an HTTP error code, "assertion (status N)" when an assertion failed a
// response below 400, and JMeter's exception name for non-HTTP failures
// ("java.net.ConnectException"). Rates are over First..Last.
func Summarize(r io.Reader) (*Summary, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, ErrNoSamples
	}
	if err != nil {
		return nil, fmt.Errorf("jtl: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, name := range required {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("jtl: column %q missing from the header %q (write CSV with jmeter.save.saveservice.print_field_names=true)", name, strings.Join(header, ","))
		}
	}
	tally := loadgen.NewTally()
	var first, last int64 // ms since the epoch
	n := 0
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("jtl: line %d: %w", line, err)
		}
		get := func(name string) string {
			if i := col[name]; i < len(rec) {
				return rec[i]
			}
			return ""
		}
		ts, err1 := strconv.ParseInt(get("timeStamp"), 10, 64)
		el, err2 := strconv.ParseInt(get("elapsed"), 10, 64)
		if err1 != nil || err2 != nil || el < 0 {
			return nil, fmt.Errorf("jtl: line %d: timeStamp %q and elapsed %q must be integers of milliseconds", line, get("timeStamp"), get("elapsed"))
		}
		class := ""
		if !strings.EqualFold(get("success"), "true") {
			class = failureClass(get("responseCode"))
		}
		tally.Add(get("label"), time.Duration(el)*time.Millisecond, class)
		if n == 0 || ts < first {
			first = ts
		}
		if n == 0 || ts+el > last {
			last = ts + el
		}
		n++
	}
	if n == 0 {
		return nil, ErrNoSamples
	}
	res := tally.Result(time.Duration(last-first) * time.Millisecond)
	res.Mode = "jmeter"
	res.Duration = res.Elapsed
	return &Summary{Result: res, First: time.UnixMilli(first).UTC(), Last: time.UnixMilli(last).UTC()}, nil
}

// failureClass names why a sample failed from its response code.
func failureClass(code string) string {
	code = strings.TrimSpace(code)
	if c, err := strconv.Atoi(code); err == nil {
		if c >= 400 || c < 100 {
			return "status " + code
		}
		return "assertion (status " + code + ")"
	}
	if rest, ok := strings.CutPrefix(code, "Non HTTP response code: "); ok {
		return rest
	}
	if code == "" {
		return "no response code"
	}
	return code
}

// Table is the loadgen table with the file's time span first.
func (s *Summary) Table() string {
	return fmt.Sprintf("jtl: %d samples from %s to %s\n", s.Total,
		s.First.Format(time.RFC3339), s.Last.Format(time.RFC3339)) + s.Result.Table()
}
