package jobs

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	depth    *prometheus.GaugeVec
	duration *prometheus.HistogramVec
	failures *prometheus.CounterVec
	retries  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, kinds []string) (*metrics, error) {
	m := &metrics{
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "docplat_jobs_queue_depth",
			Help: "Jobs enqueued and not yet handled (the workers' consumer lag), per topic: the retry topic holds attempts waiting for their backoff."}, []string{"topic"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "docplat_job_duration_seconds",
			Help:    "Time of one attempt of a job, by kind and outcome (ok, error).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}}, []string{"kind", "outcome"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docplat_job_failures_total",
			Help: "Jobs recorded as failed for good (after their last attempt, or a permanent error), by kind."}, []string{"kind"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docplat_job_retries_total",
			Help: "Failed attempts of jobs scheduled again after a backoff, by kind."}, []string{"kind"}),
	}
	for _, k := range kinds { // exported at 0 from the start, so rate() works
		m.failures.WithLabelValues(k)
		m.retries.WithLabelValues(k)
	}
	if reg != nil {
		err := errors.Join(reg.Register(m.depth), reg.Register(m.duration), reg.Register(m.failures), reg.Register(m.retries))
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}
