package resumable

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	created  prometheus.Counter
	refused  *prometheus.CounterVec
	finished *prometheus.CounterVec
	expired  prometheus.Counter
	finish   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		created: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "docplat_resumable_uploads_created_total",
			Help: "Resumable (tus) uploads created.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_resumable_uploads_refused_total",
			Help: "Resumable uploads refused at creation, by reason (quota, too_many, invalid, forbidden, unavailable).",
		}, []string{"reason"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_resumable_uploads_finished_total",
			Help: "Resumable uploads whose last byte arrived, by outcome (done: the document was written; refused: quota, type or precondition, data removed; retry: a dependency failed, the finish runs again on the next request).",
		}, []string{"outcome"}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "docplat_resumable_uploads_expired_total",
			Help: "Unfinished resumable uploads removed by the cleanup after their expiry.",
		}),
		finish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "docplat_resumable_upload_finish_seconds",
			Help:    "Time from an upload's last byte to its document: staging (hashing, type sniffing) and the three-phase commit.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.created, m.refused, m.finished, m.expired, m.finish)
	}
	return m
}
