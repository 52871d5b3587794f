package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// errOverload marks an open-loop request that never got a MaxInFlight slot.
var errOverload = errors.New(OverloadError)

// sampleCap is how many latencies a series keeps for the exact mean of the
// slowest 10% (see the package doc); a variable so tests can lower it.
var sampleCap = 2_000_000

// HDR histogram geometry: microseconds, 1µs..60s, 3 significant digits.
const (
	histLowest  = 1
	histHighest = 60_000_000
	histDigits  = 3
)

// classify names the failure class of a transport error.
func classify(err error) string {
	if errors.Is(err, errOverload) {
		return OverloadError
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return "timeout"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "dns"
	}
	inner := err
	for {
		u := errors.Unwrap(inner)
		if u == nil {
			break
		}
		inner = u
	}
	return fmt.Sprintf("error %T", inner)
}

// acc128 is an exact 128-bit sum of non-negative int64 values.
type acc128 struct{ hi, lo uint64 }

func (a *acc128) add(v int64) {
	var carry uint64
	a.lo, carry = bits.Add64(a.lo, uint64(v), 0)
	a.hi += carry
}

func (a acc128) float() float64 { return float64(a.hi)*math.Exp2(64) + float64(a.lo) }

// bucket is one log-linear latency bucket: exact count and sum.
type bucket struct {
	count int64
	sum   acc128
}

// bucketKey maps a latency in ns to its bucket's lower bound: values below
// 2048 ns are their own bucket; above, the top 11 significant bits are kept
// (1024 sub-buckets per power of two, width < 0.1% of the values).
func bucketKey(v int64) int64 {
	if v < 2048 {
		return v
	}
	shift := bits.Len64(uint64(v)) - 11
	return v >> shift << shift
}

// series accumulates the figures of one label (or of everything).
type series struct {
	total, successes, failures int64
	shed                       int64 // failures of ShedClass
	failuresBy                 map[string]int64
	hist                       *hdrhistogram.Histogram
	sum                        acc128
	max                        int64
	samples                    []int64           // all latencies (ns) while <= sampleCap
	buckets                    map[int64]*bucket // replaces samples past sampleCap
}

func newSeries() *series {
	return &series{
		failuresBy: map[string]int64{},
		hist:       hdrhistogram.New(histLowest, histHighest, histDigits),
	}
}

// add records one latency (ns, >= 0) with its failure class ("" = success).
func (s *series) add(lat int64, class string) {
	s.total++
	if class == "" {
		s.successes++
	} else {
		s.failures++
		s.failuresBy[class]++
		if class == ShedClass {
			s.shed++
		}
	}
	s.sum.add(lat)
	s.max = max(s.max, lat)
	us := (lat + 500) / 1000
	_ = s.hist.RecordValue(min(max(us, histLowest), histHighest))
	if s.buckets == nil {
		if len(s.samples) < sampleCap {
			s.samples = append(s.samples, lat)
			return
		}
		s.buckets = map[int64]*bucket{}
		for _, v := range s.samples {
			s.addBucket(v)
		}
		s.samples = nil
	}
	s.addBucket(lat)
}

func (s *series) addBucket(v int64) {
	k := bucketKey(v)
	b := s.buckets[k]
	if b == nil {
		b = &bucket{}
		s.buckets[k] = b
	}
	b.count++
	b.sum.add(v)
}

// slowest10 returns the mean (ns) of the k = ceil(n/10) largest latencies and
// whether it is exact.
func (s *series) slowest10() (float64, bool) {
	n := s.total
	if n == 0 {
		return 0, true
	}
	k := (n + 9) / 10
	if s.buckets == nil {
		sorted := slices.Clone(s.samples)
		slices.Sort(sorted)
		var acc acc128
		for _, v := range sorted[len(sorted)-int(k):] {
			acc.add(v)
		}
		return acc.float() / float64(k), true
	}
	keys := make([]int64, 0, len(s.buckets))
	for key := range s.buckets {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	var total float64
	left := k
	for i := len(keys) - 1; i >= 0 && left > 0; i-- {
		b := s.buckets[keys[i]]
		if b.count <= left {
			total += b.sum.float()
			left -= b.count
			continue
		}
		total += float64(left) * b.sum.float() / float64(b.count)
		left = 0
	}
	return total / float64(k), false
}

// stats turns the series into the reported figures over elapsed.
func (s *series) stats(elapsed time.Duration) Stats {
	st := Stats{
		Total:      s.total,
		Successes:  s.successes,
		Failures:   s.failures,
		Shed:       s.shed,
		FailuresBy: map[string]int64{},
		Max:        Millis(s.max),
	}
	for k, v := range s.failuresBy {
		st.FailuresBy[k] = v
	}
	if sec := elapsed.Seconds(); sec > 0 {
		st.RequestsPerSec = float64(s.total) / sec
		st.SuccessesPerSec = float64(s.successes) / sec
		st.FailuresPerSec = float64(s.failures) / sec
	}
	if s.total == 0 {
		st.MeanSlowest10Exact = true
		return st
	}
	st.Mean = Millis(math.Round(s.sum.float() / float64(s.total)))
	m, exact := s.slowest10()
	st.MeanSlowest10 = Millis(math.Round(m))
	st.MeanSlowest10Exact = exact
	q := func(p float64) Millis {
		v := s.hist.ValueAtQuantile(p) * int64(time.Microsecond)
		return Millis(min(v, s.max)) // the bucket's upper edge may pass the true max
	}
	st.P50, st.P90, st.P99, st.P999 = q(50), q(90), q(99), q(99.9)
	return st
}

// recorder collects the outcomes of the measured requests.
type recorder struct {
	mu      sync.Mutex
	success func(int) bool
	all     *series
	byName  map[string]*series
	maxLag  time.Duration
}

func newRecorder(success func(int) bool) *recorder {
	if success == nil {
		success = func(status int) bool { return status < 400 }
	}
	return &recorder{success: success, all: newSeries(), byName: map[string]*series{}}
}

// record adds one outcome: err != nil is a transport failure, otherwise the
// status decides; lag is how late the request was sent (open loop).
func (r *recorder) record(name string, lat time.Duration, status int, err error, lag time.Duration) {
	class := ""
	if err != nil {
		class = classify(err)
	} else if !r.success(status) {
		class = fmt.Sprintf("status %d", status)
	}
	r.recordClass(name, lat, class, lag)
}

// recordAnswer is record for an answer: a clean refusal (503 with
// Retry-After) gets ShedClass.
func (r *recorder) recordAnswer(name string, lat time.Duration, a answer, err error, lag time.Duration) {
	if err == nil && a.shed() {
		r.recordClass(name, lat, ShedClass, lag)
		return
	}
	r.record(name, lat, a.status, err, lag)
}

// recordClass adds one outcome whose failure class is known ("" = success).
func (r *recorder) recordClass(name string, lat time.Duration, class string, lag time.Duration) {
	v := max(int64(lat), 0)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all.add(v, class)
	if name != "" {
		s := r.byName[name]
		if s == nil {
			s = newSeries()
			r.byName[name] = s
		}
		s.add(v, class)
	}
	r.maxLag = max(r.maxLag, lag)
}

// latencies returns a copy of the overall samples (nil past sampleCap).
func (r *recorder) latencies() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]time.Duration, len(r.all.samples))
	for i, v := range r.all.samples {
		out[i] = time.Duration(v)
	}
	return out
}

func (r *recorder) result(elapsed time.Duration) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &Result{
		Stats:      r.all.stats(elapsed),
		Elapsed:    Millis(elapsed),
		MaxSendLag: Millis(r.maxLag),
	}
	if len(r.byName) > 0 {
		res.ByName = map[string]*Stats{}
		for name, s := range r.byName {
			st := s.stats(elapsed)
			res.ByName[name] = &st
		}
	}
	return res
}
