package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"docplat/internal/testdb"
)

// BenchmarkReadByID measures GET /api/v1/documents/{id} over loopback HTTP
// with no cache: every read goes to the database. The baseline is a bare
// net/http handler returning the same JSON bytes from memory, measured in
// the same run with the same client, so the ratio survives a noisy machine.
//
//	make bench   (or: go test -run '^$' -bench ReadByID ./cmd/docplat)
func BenchmarkReadByID(b *testing.B) {
	const docsN = 200
	for _, backend := range []testdb.Backend{testdb.MariaDB, testdb.SQLite} {
		b.Run(string(backend), func(b *testing.B) {
			a := newTestApp(b, backend)
			admin := a.admin()
			ids := make([]string, docsN)
			for i := range ids {
				ids[i] = admin.mustUpload(fmt.Sprintf("doc%d.txt", i), strings.Repeat("lecture handout ", 64), map[string]string{"visibility": "public"}).ID
			}
			sample := admin.do("GET", "/api/v1/documents/"+ids[0], nil, nil).body

			b.Run("baseline-nethttp", func(b *testing.B) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json; charset=utf-8")
					_, _ = w.Write(sample)
				}))
				defer srv.Close()
				benchGets(b, srv.URL, ids, "")
			})
			b.Run("docplat-anonymous", func(b *testing.B) { benchGets(b, a.srv.URL, ids, "") })
			b.Run("docplat-bearer", func(b *testing.B) { benchGets(b, a.srv.URL, ids, admin.token) })
		})
	}
}

func benchGets(b *testing.B, base string, ids []string, token string) {
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	b.SetParallelism(16) // 16 clients per core: a burst, not a single caller
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req, _ := http.NewRequest("GET", base+"/api/v1/documents/"+ids[i%len(ids)], nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			i++
			res, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			var d struct{ ID string }
			err = json.NewDecoder(res.Body).Decode(&d)
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || err != nil {
				b.Errorf("status %d, %v", res.StatusCode, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
