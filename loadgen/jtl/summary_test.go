package jtl

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// known is a JMeter 2.13 CSV results file with ten samples of 10..100 ms,
// started 100 ms apart, three of them failed in three different ways.
func known() string {
	var b strings.Builder
	b.WriteString("timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,bytes,grpThreads,allThreads,Latency\n")
	const t0 = 1795433618000
	rows := []struct {
		label, code, success string
	}{
		{"read-meta", "200", "true"}, {"read-meta", "200", "true"}, {"read-meta", "500", "false"},
		{"read-meta", "200", "true"}, {"read-meta", "200", "true"},
		{"search", "200", "true"}, {"search", "Non HTTP response code: java.net.ConnectException", "false"},
		{"search", "200", "false"}, {"search", "200", "true"}, {"search", "200", "true"},
	}
	for i, r := range rows {
		fmt.Fprintf(&b, "%d,%d,%s,%s,\"msg, with comma\",users 1-1,text,%s,687,1,1,5\n", t0+100*i, 10*(i+1), r.label, r.code, r.success)
	}
	return b.String()
}

func near(got time.Duration, wantMs float64) bool {
	return math.Abs(float64(got)/1e6-wantMs) <= wantMs*0.001+1e-9
}

func TestSummarizeMatchesExactComputation(t *testing.T) {
	s, err := Summarize(strings.NewReader(known()))
	if err != nil {
		t.Fatal(err)
	}
	if s.Total != 10 || s.Successes != 7 || s.Failures != 3 {
		t.Fatalf("total %d successes %d failures %d", s.Total, s.Successes, s.Failures)
	}
	wantBy := map[string]int64{"status 500": 1, "java.net.ConnectException": 1, "assertion (status 200)": 1}
	if len(s.FailuresBy) != len(wantBy) {
		t.Fatalf("failures by class %v", s.FailuresBy)
	}
	for k, v := range wantBy {
		if s.FailuresBy[k] != v {
			t.Fatalf("failures by class %v, want %v", s.FailuresBy, wantBy)
		}
	}
	// Window: first start t0 to last end t0+900+100 ms.
	if s.Elapsed.Duration() != time.Second || s.Last.Sub(s.First) != time.Second {
		t.Fatalf("elapsed %v, span %v", s.Elapsed.Duration(), s.Last.Sub(s.First))
	}
	if s.RequestsPerSec != 10 || s.SuccessesPerSec != 7 || s.FailuresPerSec != 3 {
		t.Fatalf("rates %v %v %v", s.RequestsPerSec, s.SuccessesPerSec, s.FailuresPerSec)
	}
	// Mean of 10..100 is 55; the slowest 10% is the single largest, 100;
	// p50 is the 5th value, 50; p90 the 9th, 90.
	for _, c := range []struct {
		name string
		got  time.Duration
		want float64
	}{
		{"mean", s.Mean.Duration(), 55}, {"slowest10", s.MeanSlowest10.Duration(), 100},
		{"max", s.Max.Duration(), 100}, {"p50", s.P50.Duration(), 50}, {"p90", s.P90.Duration(), 90},
		{"p99", s.P99.Duration(), 100},
		{"read-meta mean", s.ByName["read-meta"].Mean.Duration(), 30},
		{"search mean", s.ByName["search"].Mean.Duration(), 80},
		{"search slowest10", s.ByName["search"].MeanSlowest10.Duration(), 100},
	} {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %vms", c.name, c.got, c.want)
		}
	}
	if s.ByName["read-meta"].Failures != 1 || s.ByName["search"].Failures != 2 {
		t.Fatalf("per-name failures %d %d", s.ByName["read-meta"].Failures, s.ByName["search"].Failures)
	}
	if !strings.Contains(s.Table(), "10 samples") {
		t.Fatalf("table:\n%s", s.Table())
	}
}

func TestSummarizeRefusesFilesWithoutSamples(t *testing.T) {
	header := strings.SplitN(known(), "\n", 2)[0] + "\n"
	for _, tc := range []struct {
		name, in string
		want     error
		contains string
	}{
		{"empty file", "", ErrNoSamples, ""},
		{"header only", header, ErrNoSamples, ""},
		{"no header (print_field_names off)", "1795433618000,10,read-meta,200,OK,u,text,true,1,1,1,1\n", nil, "column"},
		{"xml results", "<?xml version=\"1.0\"?>\n<testResults>\n", nil, "column"},
		{"bad elapsed", header + "1795433618000,ten,read-meta,200,OK,u,text,true,1,1,1,1\n", nil, "line 2"},
	} {
		_, err := Summarize(strings.NewReader(tc.in))
		if err == nil {
			t.Fatalf("%s: accepted", tc.name)
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if !strings.Contains(err.Error(), tc.contains) {
			t.Fatalf("%s: %v, want it to mention %q", tc.name, err, tc.contains)
		}
	}
}
