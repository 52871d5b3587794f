package loadgen

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"
)

// within reports whether got is within rel (relative) + abs of want.
func within(got, want time.Duration, rel float64, abs time.Duration) bool {
	return math.Abs(float64(got-want)) <= rel*float64(want)+float64(abs)
}

func recordAll(r *recorder, name string, lats []time.Duration) {
	for _, l := range lats {
		r.record(name, l, 200, nil, 0)
	}
}

func TestStatsKnownSamples(t *testing.T) {
	rec := newRecorder(nil)
	var lats []time.Duration
	for i := 1; i <= 100; i++ {
		lats = append(lats, time.Duration(i)*time.Millisecond)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(lats), func(i, j int) { lats[i], lats[j] = lats[j], lats[i] })
	recordAll(rec, "a", lats)
	res := rec.result(2 * time.Second)

	if res.Total != 100 || res.Successes != 100 || res.Failures != 0 {
		t.Fatalf("counts %d %d %d", res.Total, res.Successes, res.Failures)
	}
	if res.Mean.Duration() != 50500*time.Microsecond {
		t.Errorf("mean %v, want 50.5ms", res.Mean)
	}
	if res.MeanSlowest10.Duration() != 95500*time.Microsecond || !res.MeanSlowest10Exact {
		t.Errorf("slowest 10%% %v (exact %v), want 95.5ms exactly", res.MeanSlowest10, res.MeanSlowest10Exact)
	}
	for _, c := range []struct {
		name      string
		got, want time.Duration
	}{
		{"p50", res.P50.Duration(), 50 * time.Millisecond},
		{"p90", res.P90.Duration(), 90 * time.Millisecond},
		{"p99", res.P99.Duration(), 99 * time.Millisecond},
		{"p99.9", res.P999.Duration(), 100 * time.Millisecond},
	} {
		if !within(c.got, c.want, 0.001, 0) {
			t.Errorf("%s %v, want %v within 0.1%%", c.name, c.got, c.want)
		}
	}
	if res.Max.Duration() != 100*time.Millisecond {
		t.Errorf("max %v, want exactly 100ms", res.Max)
	}
	if res.RequestsPerSec != 50 || res.SuccessesPerSec != 50 || res.FailuresPerSec != 0 {
		t.Errorf("rates %v %v %v", res.RequestsPerSec, res.SuccessesPerSec, res.FailuresPerSec)
	}
	if a := res.ByName["a"]; a == nil || a.Total != 100 || a.Mean != res.Mean || a.MeanSlowest10 != res.MeanSlowest10 || a.P99 != res.P99 || a.Max != res.Max {
		t.Errorf("by name %+v", a)
	}
}

// TestSlowest10RoundsUp: the slowest 10% of 15 samples are the 2 largest.
func TestSlowest10RoundsUp(t *testing.T) {
	rec := newRecorder(nil)
	for i := 1; i <= 15; i++ {
		rec.record("", time.Duration(i)*time.Millisecond, 200, nil, 0)
	}
	if got := rec.result(time.Second).MeanSlowest10.Duration(); got != 14500*time.Microsecond {
		t.Errorf("slowest 10%% of 1..15ms = %v, want 14.5ms", got)
	}
	empty := newRecorder(nil).result(0)
	if empty.Total != 0 || empty.Mean != 0 || empty.P99 != 0 || empty.RequestsPerSec != 0 {
		t.Errorf("empty result %+v", empty)
	}
}

// exact computes the reference figures by sorting.
func exact(lats []time.Duration) (mean, slow10 float64, pct func(p float64) time.Duration) {
	s := slices.Clone(lats)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += float64(v)
	}
	k := (len(s) + 9) / 10
	var top float64
	for _, v := range s[len(s)-k:] {
		top += float64(v)
	}
	pct = func(p float64) time.Duration {
		// HDR's rank: round(p/100 * n), at least 1.
		rank := max(int(p/100*float64(len(s))+0.5), 1)
		return s[min(rank, len(s))-1]
	}
	return sum / float64(len(s)), top / float64(k), pct
}

func lognormal(n int, seed uint64) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]time.Duration, n)
	for i := range out {
		// Median ~2ms, long tail up to seconds.
		out[i] = time.Duration(math.Exp(rng.NormFloat64()*1.5) * 2e6)
	}
	return out
}

func TestStatsAgainstExactComputation(t *testing.T) {
	lats := lognormal(10007, 3)
	rec := newRecorder(nil)
	recordAll(rec, "", lats)
	res := rec.result(time.Second)
	mean, slow, pct := exact(lats)
	if math.Abs(float64(res.Mean)-mean) > 1 {
		t.Errorf("mean %v, exact %v", res.Mean, time.Duration(mean))
	}
	if math.Abs(float64(res.MeanSlowest10)-slow) > 1 || !res.MeanSlowest10Exact {
		t.Errorf("slowest 10%% %v, exact %v", res.MeanSlowest10, time.Duration(slow))
	}
	for _, c := range []struct {
		p   float64
		got Millis
	}{{50, res.P50}, {90, res.P90}, {99, res.P99}, {99.9, res.P999}} {
		// 0.1% from HDR plus the 1µs recording unit.
		if want := pct(c.p); !within(c.got.Duration(), want, 0.001, time.Microsecond) {
			t.Errorf("p%v %v, exact %v", c.p, c.got, want)
		}
	}
	if want := slices.Max(lats); res.Max.Duration() != want {
		t.Errorf("max %v, want %v", res.Max, want)
	}
}

// TestSlowest10PastSampleCap: past the sample cap the figure comes from the
// buckets, within 0.1%.
func TestSlowest10PastSampleCap(t *testing.T) {
	old := sampleCap
	sampleCap = 1000
	defer func() { sampleCap = old }()
	for _, seed := range []uint64{1, 2, 3} {
		lats := lognormal(20011, seed)
		rec := newRecorder(nil)
		recordAll(rec, "", lats)
		res := rec.result(time.Second)
		mean, slow, _ := exact(lats)
		if res.MeanSlowest10Exact {
			t.Fatal("still exact past the cap")
		}
		if math.Abs(float64(res.Mean)-mean) > 1 {
			t.Errorf("mean %v, exact %v", res.Mean, time.Duration(mean))
		}
		if !within(res.MeanSlowest10.Duration(), time.Duration(slow), 0.001, 0) {
			t.Errorf("slowest 10%% %v, exact %v", res.MeanSlowest10, time.Duration(slow))
		}
	}
}

func TestBucketKey(t *testing.T) {
	for _, v := range []int64{0, 1, 2047, 2048, 2049, 4095, 4096, 123456789, 59_999_999_999, math.MaxInt64} {
		k := bucketKey(v)
		if k > v || float64(v-k) > float64(v)/1024 {
			t.Errorf("bucketKey(%d) = %d", v, k)
		}
	}
}

func TestRecorderFailures(t *testing.T) {
	rec := newRecorder(func(s int) bool { return s < 400 || s == 404 })
	rec.record("a", time.Millisecond, 503, nil, 0)
	rec.record("a", time.Millisecond, 503, nil, 0)
	rec.record("b", time.Millisecond, 404, nil, 0)
	rec.record("b", time.Millisecond, 500, nil, 0)
	rec.record("b", time.Millisecond, 0, errOverload, 0)
	res := rec.result(time.Second)
	want := map[string]int64{"status 503": 2, "status 500": 1, OverloadError: 1}
	if res.Total != 5 || res.Successes != 1 || res.Failures != 4 || fmt.Sprint(res.FailuresBy) != fmt.Sprint(want) {
		t.Errorf("got %d/%d/%d %v", res.Total, res.Successes, res.Failures, res.FailuresBy)
	}
	if b := res.ByName["b"]; b.Total != 3 || b.Successes != 1 || b.FailuresBy["status 500"] != 1 || b.FailuresBy["status 503"] != 0 {
		t.Errorf("b: %+v", b)
	}
}

type oddError struct{}

func (oddError) Error() string { return "odd" }

func TestClassify(t *testing.T) {
	opErr := func(err error) error {
		return &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}}
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{opErr(syscall.ECONNREFUSED), "connection refused"},
		{opErr(syscall.ECONNRESET), "connection reset"},
		{&url.Error{Op: "Get", URL: "http://x", Err: io.ErrUnexpectedEOF}, "eof"},
		{&url.Error{Op: "Get", URL: "http://x", Err: fmt.Errorf("read: %w", os.ErrDeadlineExceeded)}, "timeout"},
		{fmt.Errorf("wrapped: %w", errOverload), OverloadError},
		{&url.Error{Op: "Get", URL: "http://x", Err: &net.DNSError{Err: "no such host", Name: "x"}}, "dns"},
		{&url.Error{Op: "Get", URL: "http://x", Err: oddError{}}, "error loadgen.oddError"},
		{errors.New("plain"), "error *errors.errorString"},
	} {
		if got := classify(c.err); got != c.want {
			t.Errorf("classify(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
