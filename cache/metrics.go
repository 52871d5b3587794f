package cache

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	requests              *prometheus.CounterVec
	fills                 *prometheus.CounterVec
	rejected              *prometheus.CounterVec
	loads                 prometheus.Counter
	loadErrors            prometheus.Counter
	staleServed           prometheus.Counter
	l2Errors              prometheus.Counter
	invalidationsSent     prometheus.Counter
	invalidationErrors    prometheus.Counter
	invalidationsReceived prometheus.Counter
	subscriptionLost      prometheus.Counter
	propagation           prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_cache_requests_total", Help: "Cache lookups by level and result (hit or miss).",
		}, []string{"level", "result"}),
		fills: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_cache_fills_total", Help: "Entries written into a cache level.",
		}, []string{"level"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_cache_stale_rejections_total", Help: "Fills refused because a newer version or tombstone was stored (l1, l2) or the fill lease had expired (l2_lease).",
		}, []string{"level"}),
		loads:       prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_cache_source_loads_total", Help: "Reads that went to the source of truth."}),
		loadErrors:  prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_cache_source_errors_total", Help: "Source reads that failed."}),
		staleServed: prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_cache_stale_served_total", Help: "Answers served from an expired L1 entry because the source failed."}),
		l2Errors:    prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_cache_l2_errors_total", Help: "Redis errors on the read path (L2 is then skipped for a second)."}),
		invalidationsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "docplat_cache_invalidations_sent_total", Help: "Tombstones written to L2 and broadcast."}),
		invalidationErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "docplat_cache_invalidation_errors_total", Help: "Invalidations that could not be recorded: before a commit the write is refused; after it the write stands and the invalidation is retried in the background."}),
		invalidationsReceived: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "docplat_cache_invalidations_received_total", Help: "Tombstones received from the invalidation channel."}),
		subscriptionLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "docplat_cache_subscription_lost_total", Help: "Times the invalidation subscription was lost (L1 flushed and bypassed until back)."}),
		propagation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "docplat_cache_invalidation_propagation_seconds", Help: "Staleness observed: time from an invalidation's broadcast to its arrival in this instance's L1.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.fills, m.rejected, m.loads, m.loadErrors, m.staleServed, m.l2Errors,
			m.invalidationsSent, m.invalidationErrors, m.invalidationsReceived, m.subscriptionLost, m.propagation)
	}
	return m
}

func (m *metrics) hit(level string)  { m.requests.WithLabelValues(level, "hit").Inc() }
func (m *metrics) miss(level string) { m.requests.WithLabelValues(level, "miss").Inc() }
