package extract

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkText measures extraction throughput per format, in documents
// per second, on the generated corpus (manual pages of 2 to 40 KiB, Chinese
// and English; each Office file and PDF its own child process, as in
// production).
func BenchmarkText(b *testing.B) {
	docs := corpusDocs(b, 8, true)
	byFormat := map[string][]doc{}
	var formats []string
	for _, d := range docs {
		if byFormat[d.format] == nil {
			formats = append(formats, d.format)
		}
		byFormat[d.format] = append(byFormat[d.format], d)
	}
	slices.Sort(formats)
	ctx := context.Background()
	for _, f := range formats {
		ds := byFormat[f]
		b.Run(f, func(b *testing.B) {
			start := time.Now()
			n := 0
			for b.Loop() {
				d := ds[n%len(ds)]
				if _, err := Text(ctx, d.path, d.mime, 1<<20); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "docs/s")
		})
	}
}
