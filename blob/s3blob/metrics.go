package s3blob

import (
	"errors"
	"time"

	"docplat/depfail"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the S3 requests' durations and errors, by operation (stage,
// put, publish, get, stat, remove, list, clean, ping).
type metrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "docplat_blob_s3_request_duration_seconds",
			Help:    "Duration of blob store operations on S3 by operation (a stage or get includes streaming the body for small objects; a get only until the first response).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_blob_s3_errors_total",
			Help: "Blob store operations that S3 failed (unreachable, an error answer), by operation; a client's failing body or a not-found is not counted.",
		}, []string{"op"}),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.errors)
	}
	return m
}

// observe records an operation that started at start and ended with *err.
func (m *metrics) observe(op string, start time.Time, err *error) {
	m.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if errors.Is(*err, depfail.ErrUnavailable) { // not a client's failing body, not a not-found
		m.errors.WithLabelValues(op).Inc()
	}
}
