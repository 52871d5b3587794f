package preview

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	renders *prometheus.CounterVec
	seconds *prometheus.HistogramVec
	cache   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		renders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_preview_renders_total", Help: "poppler runs for PDF previews, by operation (info: page count, page: a page image) and outcome (ok, unreadable: a damaged or protected PDF, failed: poppler failed or timed out).",
		}, []string{"op", "outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "docplat_preview_render_seconds", Help: "Duration of poppler runs for PDF previews, by operation.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"op"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_preview_cache_total", Help: "Lookups of the PDF preview cache, by entry (pages: a page count, page: a page image) and result (hit, miss).",
		}, []string{"entry", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.renders, m.seconds, m.cache)
	}
	return m
}
