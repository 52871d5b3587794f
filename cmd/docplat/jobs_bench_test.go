package main

import (
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"docplat/internal/testdb"
)

// BenchmarkUploadToSearchable measures, over loopback HTTP with the
// in-process workers (the embedded mode's and a default serve's), the time
// from the start of an upload to the document being found by a word of
// its body, for 50 uploads one after the other; reported as p50/p95 in
// milliseconds. The search cache is off here. The uploads are small text
// files, whose text is read in the upload since issue H5 (one commit, no
// job), so the figure is the upload's and a search's; before it was the
// extraction's (commit, enqueue, worker, fenced write). With it on (5 s by
// default) a query already asked before the extraction answers its old
// ranking up to the cache's TTL longer. Each upload is also timed to its
// text_state ready (GET, through the document cache).
//
//	go test -run '^$' -bench UploadToSearchable -benchtime 1x ./cmd/docplat
func BenchmarkUploadToSearchable(b *testing.B) {
	const n = 50
	for _, backend := range []testdb.Backend{testdb.SQLite, testdb.MariaDB} {
		b.Run(string(backend), func(b *testing.B) {
			a := newTestApp(b, backend, func(c *config) { c.SearchCacheTTL = 0 })
			admin := a.admin()
			for range b.N {
				var ready, found []time.Duration
				for i := range n {
					word := fmt.Sprintf("benchword%dx%d", time.Now().UnixNano(), i)
					start := time.Now()
					r, d := admin.upload(fmt.Sprintf("u%d.txt", i), []byte("lecture notes with "+word), nil)
					if r.status != 201 {
						b.Fatalf("upload: %d %s", r.status, r.body)
					}
					var readyAt time.Duration
					for {
						if readyAt == 0 {
							var cur document
							admin.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, &cur)
							if cur.TextState == "ready" {
								readyAt = time.Since(start)
							}
						}
						if slices.Contains(ids(admin.search("q="+word)), d.ID) {
							found = append(found, time.Since(start))
							if readyAt == 0 {
								readyAt = time.Since(start)
							}
							ready = append(ready, readyAt)
							break
						}
						if time.Since(start) > 30*time.Second {
							b.Fatalf("upload %d not found after 30s", i)
						}
						time.Sleep(2 * time.Millisecond)
					}
				}
				b.ReportMetric(pct(found, 50), "found-p50-ms")
				b.ReportMetric(pct(found, 95), "found-p95-ms")
				b.ReportMetric(pct(ready, 50), "ready-p50-ms")
				b.ReportMetric(pct(ready, 95), "ready-p95-ms")
			}
		})
	}
}

// pct is the p-th percentile of ds in milliseconds.
func pct(ds []time.Duration, p int) float64 {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	return float64(s[max(i-1, 0)].Microseconds()) / 1000
}
