package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"docplat/accounts"
	"docplat/docs"
	"docplat/internal/testdb"
	"docplat/internal/testredis"
	"docplat/server"
)

// BenchmarkReadByID measures GET /api/v1/documents/{id} (metadata) over
// loopback HTTP on 200 public documents: without any cache (every read goes
// to the database: the figure of the foundation issue) and through the
// cache (L1 hits after the first round), against a bare net/http handler
// returning the same JSON bytes from memory, all in the same run.
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
			raw := uncachedServer(b, a)

			b.Run("baseline-nethttp", func(b *testing.B) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json; charset=utf-8")
					_, _ = w.Write(sample)
				}))
				defer srv.Close()
				benchGets(b, srv.URL, ids, "")
			})
			b.Run("uncached-anonymous", func(b *testing.B) { benchGets(b, raw.URL, ids, "") })
			b.Run("uncached-bearer", func(b *testing.B) { benchGets(b, raw.URL, ids, admin.token) })
			b.Run("cached-anonymous", func(b *testing.B) { benchGets(b, a.srv.URL, ids, "") })
			b.Run("cached-bearer", func(b *testing.B) { benchGets(b, a.srv.URL, ids, admin.token) })
		})
	}
}

// uncachedServer serves a's database and blobs without any cache: the
// stores are used directly, as before the cache existed.
func uncachedServer(b *testing.B, a *testApp) *httptest.Server {
	raw := docs.NewService(docs.WithThreePhaseCommit(a.db.Documents(), a.coord, 0), a.blobs, docs.Options{Logger: a.log})
	srv := httptest.NewServer(server.New(server.Deps{Accounts: accounts.NewService(a.db.Accounts(), accounts.Options{}),
		Docs: raw, Logger: a.log}, server.Options{}))
	b.Cleanup(srv.Close)
	return srv
}

func benchGets(b *testing.B, base string, ids []string, token string) {
	benchHTTP(b, base, ids, "", token, 0, func(body io.Reader) error {
		var d struct{ ID string }
		return json.NewDecoder(body).Decode(&d)
	})
}

// benchHTTP GETs base/api/v1/documents/{id}{suffix} from 16 clients per core
// (a burst, not a single caller) and reports req/s; check reads each body.
func benchHTTP(b *testing.B, base string, ids []string, suffix, token string, size int, check func(io.Reader) error) {
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	b.SetParallelism(16)
	b.ReportAllocs()
	if size > 0 {
		b.SetBytes(int64(size))
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req, _ := http.NewRequest("GET", base+"/api/v1/documents/"+ids[i%len(ids)]+suffix, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			i++
			res, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			err = check(res.Body)
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

// BenchmarkCachedRead reads the same 10 KB public document's content over
// loopback HTTP through each cache level, and a bare net/http handler
// returning the same bytes from memory as the baseline, all in one run:
//
//	l1-hit          bigcache in the process (the handout everyone opens)
//	l1-hit-bearer   the same with a bearer token (token lookup cached too)
//	l2-hit          L1 off: every read is a Redis GET
//	uncached        no cache at all: MariaDB and the blob file on every read
func BenchmarkCachedRead(b *testing.B) {
	body := strings.Repeat("0123456789abcdef", 640) // 10 KiB
	cfg := testConfig(b, testdb.MariaDB)
	node := testredis.Start(b, 4)
	cfg.Redis.Addr = node[0].Addr()
	cfg.Redis.LockAddrs = []string{node[1].Addr(), node[2].Addr(), node[3].Addr()}
	cached := startApp(b, cfg)
	admin := cached.admin()
	d := admin.mustUpload("handout.txt", body, map[string]string{"visibility": "public"})
	ids := []string{d.ID}
	path := "/content"

	noL1 := cfg
	noL1.Cache.L1MB = 0
	l2only := startApp(b, noL1)

	uncachedSrv := uncachedServer(b, cached)

	b.Run("baseline-nethttp", func(b *testing.B) {
		payload := []byte(body)
		length := strconv.Itoa(len(payload))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Content-Length", length)
			_, _ = w.Write(payload)
		}))
		defer srv.Close()
		benchContent(b, srv.URL, ids, path, "", len(body))
	})
	b.Run("l1-hit", func(b *testing.B) { benchContent(b, cached.srv.URL, ids, path, "", len(body)) })
	b.Run("l1-hit-bearer", func(b *testing.B) { benchContent(b, cached.srv.URL, ids, path, admin.token, len(body)) })
	b.Run("l2-hit", func(b *testing.B) { benchContent(b, l2only.srv.URL, ids, path, "", len(body)) })
	b.Run("uncached", func(b *testing.B) { benchContent(b, uncachedSrv.URL, ids, path, "", len(body)) })
}

func benchContent(b *testing.B, base string, ids []string, suffix, token string, size int) {
	benchHTTP(b, base, ids, suffix, token, size, func(body io.Reader) error {
		n, err := io.Copy(io.Discard, body)
		if err == nil && n != int64(size) {
			err = fmt.Errorf("%d bytes, want %d", n, size)
		}
		return err
	})
}
