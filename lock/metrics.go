package lock

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	acquire  prometheus.Histogram
	hold     prometheus.Histogram
	failures *prometheus.CounterVec
	lost     prometheus.Counter
	held     prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		acquire: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "docplat_lock_acquire_seconds", Help: "Time to acquire a Redlock lease, successful or not.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		hold: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "docplat_lock_hold_seconds", Help: "How long Redlock leases were held.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_lock_acquire_failures_total", Help: "Failed Redlock acquisitions: unavailable (no quorum) or timeout (held by another).",
		}, []string{"reason"}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "docplat_lock_leases_lost_total", Help: "Leases whose extension failed while held (they may have expired).",
		}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{Name: "docplat_lock_leases_held", Help: "Redlock leases held now."}),
	}
	// Exported at 0 from the start, so that an alert's increase() sees the
	// first lost quorum (deploy/prometheus).
	for _, r := range []string{"unavailable", "timeout"} {
		m.failures.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.acquire, m.hold, m.failures, m.lost, m.held)
	}
	return m
}
