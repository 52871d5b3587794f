package preview

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	renders         *prometheus.CounterVec
	seconds         *prometheus.HistogramVec
	generations     *prometheus.CounterVec
	generateSeconds *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		renders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_preview_renders_total", Help: "Converter runs for previews, by operation (info: a PDF's page count, pages: up to 10 page images at one width, convert: an Office file to PDF, image: an image downscaled) and outcome (ok, unpreviewable: the file's fault, damaged, protected or over the limits; failed: the converter failed, retried later).",
		}, []string{"op", "outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "docplat_preview_render_seconds", Help: "Duration of converter runs for previews, by operation.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"op"}),
		generations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_preview_generations_total", Help: "Previews generated, by kind (pdf, office, image) and outcome (ok; unpreviewable: recorded as having no preview; failed: nothing recorded, the job retries; gave_up: recorded as failed after the job's last attempt, a later job tries again).",
		}, []string{"kind", "outcome"}),
		generateSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "docplat_preview_generate_seconds", Help: "Duration of one content's preview generation (every page at every width), by kind.",
			Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.renders, m.seconds, m.generations, m.generateSeconds)
	}
	return m
}
