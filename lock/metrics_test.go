package lock_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"docplat/lock"
)

func newRegistry() *prometheus.Registry { return prometheus.NewRegistry() }

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// gatheredLabel returns the value of the counter name{label=value} in reg
// (0 if absent).
func gatheredLabel(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestMetrics: one successful acquisition and one that times out on a held
// lock count one timeout failure (and no unavailable one, exported at 0),
// two acquisition latencies, and the held gauge and hold histogram follow
// the lease.
func TestMetrics(t *testing.T) {
	_, addrs := startNodes(t, 3)
	reg := newRegistry()
	a := newLocker(t, addrs, lock.Options{Registerer: reg})
	b := newLocker(t, addrs, lock.Options{}) // unregistered: counts nothing in reg

	ls := mustAcquire(t, a, "doc", 2*time.Second)
	if err := tryAcquire(a, "doc", 300*time.Millisecond); !errors.Is(err, lock.ErrTimeout) {
		t.Fatalf("second Acquire: %v, want ErrTimeout", err)
	}

	const failures = `
# HELP docplat_lock_acquire_failures_total Failed Redlock acquisitions: unavailable (no quorum) or timeout (held by another).
# TYPE docplat_lock_acquire_failures_total counter
docplat_lock_acquire_failures_total{reason="timeout"} 1
docplat_lock_acquire_failures_total{reason="unavailable"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(failures), "docplat_lock_acquire_failures_total"); err != nil {
		t.Error(err)
	}

	tests := []struct {
		metric string
		want   []float64 // counter/gauge value, or histogram sample count
	}{
		{"docplat_lock_acquire_seconds", []float64{2}},
		{"docplat_lock_leases_held", []float64{1}},
		{"docplat_lock_hold_seconds", []float64{0}},
		{"docplat_lock_leases_lost_total", []float64{0}},
	}
	check := func(when string) {
		t.Helper()
		for _, tc := range tests {
			if got := gathered(t, reg, tc.metric); !equal(got, tc.want) {
				t.Errorf("%s: %s = %v, want %v", when, tc.metric, got, tc.want)
			}
		}
	}
	check("while held")

	mustRelease(t, ls)
	tests[1].want, tests[2].want = []float64{0}, []float64{1}
	check("after release")

	// Another Locker's failures are not counted here.
	hold := mustAcquire(t, a, "doc", 2*time.Second)
	if err := tryAcquire(b, "doc", 200*time.Millisecond); !errors.Is(err, lock.ErrTimeout) {
		t.Fatalf("Acquire by b: %v, want ErrTimeout", err)
	}
	mustRelease(t, hold)
	if f := gatheredLabel(t, reg, "docplat_lock_acquire_failures_total", "reason", "timeout"); f != 1 {
		t.Errorf("failures{reason=timeout} = %v after another Locker's timeout, want 1", f)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
