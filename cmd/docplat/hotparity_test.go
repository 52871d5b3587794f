package main

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"docplat/docs"
	"docplat/internal/testdb"
	"docplat/internal/testhttp"
	"docplat/internal/wait"
	"docplat/nginx"
)

// TestHotTierAnswersLikeTheApp pushes documents to a real nginx hot tier
// the way the promoter does (docs.HotSource, then nginx.Edge) and sends
// every request twice: through nginx, which answers from the hot entry
// (or, for the cases it leaves to the app, proxies), and to the app's own
// handler. Status, body and every header the contract knows must be the
// same, case by case: the hot tier replays contentpolicy's headers and
// mirrors net/http for conditional requests and ranges.
func TestHotTierAnswersLikeTheApp(t *testing.T) {
	if err := nginx.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and nginx is unusable: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	const tokenSecret = "hot-tier-parity-token-secret"
	a := newTestApp(t, testdb.MariaDB, func(c *config) { c.Hot.ReadTokenSecret = tokenSecret })
	base, edge := startHotTier(t, a, tokenSecret)
	src := docs.NewHotSource(a.db.Documents(), a.blobs, 1<<20)
	admin := a.admin()
	ctx := context.Background()
	body := strings.Repeat("0123456789abcdef", 64)

	for _, filename := range []string{"handout.pdf", "a b.txt", "文档 管理.pdf", `say "hi";x=1.md`} {
		for _, vis := range []string{"public", "private"} {
			t.Run(filename+"/"+vis, func(t *testing.T) {
				d := admin.mustUpload(filename, body, map[string]string{"visibility": vis})
				c, err := src.HotContent(ctx, d.ID)
				if err != nil {
					t.Fatal(err)
				}
				if err := edge.Push(ctx, c); err != nil {
					t.Fatal(err)
				}
				token := url.Values{}
				if vis != "public" {
					var tok struct{ Token string }
					admin.doJSON("POST", "/api/v1/documents/"+d.ID+"/read-token", nil, 201, &tok)
					token.Set("token", tok.Token)
				}
				path := "/api/v1/documents/" + d.ID + "/content"
				plain := send(t, "GET", a.srv.URL+path+"?"+token.Encode(), nil)
				etag, modified := plain.Header.Get("ETag"), plain.Header.Get("Last-Modified")
				if plain.Status != 200 || etag == "" || modified == "" {
					t.Fatalf("the app's plain answer: %d %v", plain.Status, plain.Header)
				}
				tests := []struct {
					name     string
					method   string
					download bool
					hdr      map[string]string
					hot      bool
				}{
					{"plain", "GET", false, nil, true},
					{"head", "HEAD", false, nil, true},
					{"download", "GET", true, nil, true},
					{"if-none-match", "GET", false, map[string]string{"If-None-Match": etag}, true},
					{"if-none-match download", "GET", true, map[string]string{"If-None-Match": etag}, true},
					{"if-none-match weak in list", "GET", false, map[string]string{"If-None-Match": `"x", W/` + etag}, true},
					{"if-none-match star", "GET", false, map[string]string{"If-None-Match": "*"}, true},
					{"if-none-match other", "GET", false, map[string]string{"If-None-Match": `"other"`}, true},
					{"if-none-match malformed", "GET", false, map[string]string{"If-None-Match": `bogus`}, true},
					{"range first bytes", "GET", false, map[string]string{"Range": "bytes=0-9"}, true},
					{"range open", "GET", false, map[string]string{"Range": "bytes=1000-"}, true},
					{"range suffix", "GET", false, map[string]string{"Range": "bytes=-7"}, true},
					{"range past end clamps", "GET", false, map[string]string{"Range": "bytes=1020-5000"}, true},
					{"range download", "GET", true, map[string]string{"Range": "bytes=3-4"}, true},
					{"range unsatisfiable", "GET", false, map[string]string{"Range": "bytes=1024-"}, true},
					{"range inverted", "GET", false, map[string]string{"Range": "bytes=9-3"}, false},
					{"304 beats range", "GET", false, map[string]string{"Range": "bytes=0-1", "If-None-Match": etag}, true},
					{"range suffix zero", "GET", false, map[string]string{"Range": "bytes=-0"}, false},
					{"multi range", "GET", false, map[string]string{"Range": "bytes=0-1,5-6"}, false},
					{"range with spaces", "GET", false, map[string]string{"Range": "bytes= 0-1"}, false},
					{"if-range", "GET", false, map[string]string{"Range": "bytes=0-1", "If-Range": etag}, false},
					{"if-modified-since alone", "GET", false, map[string]string{"If-Modified-Since": modified}, false},
					{"if-match", "GET", false, map[string]string{"If-Match": `"nope"`}, false},
				}
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						q := url.Values{}
						for k, v := range token {
							q[k] = v
						}
						if tt.download {
							q.Set("download", "1")
						}
						target := path + "?" + q.Encode()
						hot := send(t, tt.method, base+target, tt.hdr)
						app := send(t, tt.method, a.srv.URL+target, tt.hdr)
						want := "MISS"
						if tt.hot {
							want = "HOT"
						}
						if got := hot.Header.Get("X-Cache"); got != want {
							t.Fatalf("X-Cache = %q, want %q (%d %v)", got, want, hot.Status, hot.Header)
						}
						if strings.HasPrefix(app.Header.Get("Content-Type"), "multipart/") {
							return // a random boundary; X-Cache proved nginx left it to the app
						}
						if hot.Status != app.Status || hot.Body != app.Body {
							t.Fatalf("nginx %d %q\napp   %d %q", hot.Status, hot.Body, app.Status, app.Body)
						}
						if hh, ah := contractHeaders(hot.Header), contractHeaders(app.Header); !maps.Equal(hh, ah) {
							t.Fatalf("headers differ\nnginx %v\napp   %v", hh, ah)
						}
					})
				}
			})
		}
	}
}

// startHotTier runs `docplat nginx` (the hot tier's own command) in front
// of a, on free loopback ports, until the test ends, and returns its public
// URL and the edge the promoter would push through.
func startHotTier(t *testing.T, a *testApp, tokenSecret string) (string, nginx.Edge) {
	t.Helper()
	return startHotTierAt(t, a, tokenSecret, "hot-tier-parity-admin-secret", testhttp.FreeAddr(t), testhttp.FreeAddr(t), 1)
}

// startHotTierAt is startHotTier on given addresses and admin secret, for
// an app configured beforehand to drive that nginx (Hot.Admins).
func startHotTierAt(t *testing.T, a *testApp, tokenSecret, secret, listen, admin string, workers int) (string, nginx.Edge) {
	t.Helper()
	args := []string{"--prefix", t.TempDir(), "--listen", listen, "--admin-listen", admin, "--workers", strconv.Itoa(workers),
		"--upstreams", a.srv.Listener.Addr().String(), "--internal-secret", secret, "--read-token-secret", tokenSecret}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"nginx"}, args...), func(string) (string, bool) { return "", false })
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("docplat nginx: %v", err)
		}
	})
	edge := nginx.Edge{Client: &nginx.Client{Admin: "http://" + admin, Secret: secret}}
	wait.For(t, wait.Limit, "docplat nginx to answer on its admin listener", func() bool {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("docplat nginx stopped: %v", err)
		default:
		}
		_, err := edge.List(ctx)
		return err == nil
	})
	return "http://" + listen, edge
}

func send(t *testing.T, method, url string, hdr map[string]string) testhttp.Answer {
	t.Helper()
	return testhttp.Fetch(t, method, url, hdr)
}

// notContract are headers that tell one hop from another, not the content:
// what nginx adds, and the request id the app echoes or makes per request.
var notContract = []string{"Date", "Server", "Connection", "Keep-Alive", "X-Cache", "X-Upstream", "X-Request-Id"}

func contractHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if !slices.Contains(notContract, k) {
			out[k] = strings.Join(v, ", ")
		}
	}
	return out
}
