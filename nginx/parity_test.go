package nginx

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// contentApp answers /api/v1/documents/{id}/content the way server/content.go
// does (same headers, http.ServeContent, the contract's 416 body), for any
// id, with one document's bytes. It is the oracle the hot tier must match.
type contentApp struct {
	body       []byte
	etag       string
	ctype      string
	filename   string
	public     bool
	modified   time.Time
	srv        *httptest.Server
	name       string
	contentHit int
}

func (a *contentApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-App", a.name)
	disposition := "inline"
	if r.URL.Query().Get("download") == "1" {
		disposition = "attachment"
	}
	h := w.Header()
	h.Set("ETag", a.etag)
	h.Set("Content-Type", a.ctype)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": a.filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	if a.public {
		h.Set("Cache-Control", "public, no-cache")
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
	http.ServeContent(&oracleErrors{ResponseWriter: w, size: int64(len(a.body))}, r, "", a.modified, strings.NewReader(string(a.body)))
}

// oracleErrors is server/content.go's contractErrors.
type oracleErrors struct {
	http.ResponseWriter
	size   int64
	failed bool
}

func (w *oracleErrors) WriteHeader(status int) {
	if status < 400 {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.failed = true
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Disposition")
	h.Set("Content-Type", "application/json; charset=utf-8")
	code, msg := "bad_request", http.StatusText(status)
	if status == http.StatusRequestedRangeNotSatisfiable {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(w.size, 10))
		msg = "the Range header does not fit the content (see Content-Range for its size)"
	}
	w.ResponseWriter.WriteHeader(status) // after every header, as in server/content.go
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	_ = json.NewEncoder(w.ResponseWriter).Encode(struct {
		Error detail `json:"error"`
	}{detail{code, msg}})
}

func (w *oracleErrors) Write(b []byte) (int, error) {
	if w.failed {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

type answer struct {
	status int
	header http.Header
	body   string
}

// edgeOnly are headers nginx or the fakes add that are not the contract.
var edgeOnly = []string{"Date", "Server", "Connection", "X-Cache", "X-Upstream", "X-App", "Keep-Alive"}

func fetch(t *testing.T, method, url string, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func contractHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if !slices.Contains(edgeOnly, k) {
			out[k] = strings.Join(v, ", ")
		}
	}
	return out
}

func startContentTier(t *testing.T, a *contentApp, cfg Config) *testTier {
	t.Helper()
	requireNginx(t)
	a.srv = httptest.NewServer(a)
	t.Cleanup(a.srv.Close)
	fake := &fakeApp{name: a.name, srv: a.srv}
	return startTier(t, cfg, fake)
}

func (a *contentApp) entry(id string, rev int64, vis string) Entry {
	return Entry{ID: id, Rev: rev, Version: 1, ETag: a.etag, ContentType: a.ctype, LastModified: a.modified,
		Filename: a.filename, Visibility: vis, Body: a.body}
}

// TestHotAnswersLikeTheApp sends the same requests to a pushed document (the
// hot tier answers) and to one that is not (the app answers) and requires
// identical status, contract headers and body, and the expected X-Cache.
func TestHotAnswersLikeTheApp(t *testing.T) {
	for _, filename := range []string{"handout.pdf", "a b.txt", "文档 管理.pdf", `quo"te\.txt`} {
		t.Run(filename, func(t *testing.T) {
			body := []byte(strings.Repeat("0123456789abcdef", 64))
			app := &contentApp{name: "a", body: body, etag: `"` + strings.Repeat("ab", 32) + `"`, ctype: "application/pdf",
				filename: filename, public: true, modified: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
			tier := startContentTier(t, app, Config{})
			if err := tier.client.Push(context.Background(), app.entry("HOTDOC", 1, "public")); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name   string
				method string
				query  string
				hdr    map[string]string
				hot    bool
			}{
				{"plain", "GET", "", nil, true},
				{"head", "HEAD", "", nil, true},
				{"download", "GET", "?download=1", nil, true},
				{"if-none-match", "GET", "", map[string]string{"If-None-Match": app.etag}, true},
				{"if-none-match weak in list", "GET", "", map[string]string{"If-None-Match": `"x", W/` + app.etag}, true},
				{"if-none-match star", "GET", "", map[string]string{"If-None-Match": "*"}, true},
				{"if-none-match other", "GET", "", map[string]string{"If-None-Match": `"other"`}, true},
				{"if-none-match malformed", "GET", "", map[string]string{"If-None-Match": `bogus`}, true},
				{"range first bytes", "GET", "", map[string]string{"Range": "bytes=0-9"}, true},
				{"range open", "GET", "", map[string]string{"Range": "bytes=1000-"}, true},
				{"range suffix", "GET", "", map[string]string{"Range": "bytes=-7"}, true},
				{"range past end clamps", "GET", "", map[string]string{"Range": "bytes=1020-5000"}, true},
				{"range download", "GET", "?download=1", map[string]string{"Range": "bytes=3-4"}, true},
				{"range unsatisfiable", "GET", "", map[string]string{"Range": "bytes=1024-"}, true},
				{"range inverted", "GET", "", map[string]string{"Range": "bytes=9-3"}, false},
				{"304 beats range", "GET", "", map[string]string{"Range": "bytes=0-1", "If-None-Match": app.etag}, true},
				{"range suffix zero", "GET", "", map[string]string{"Range": "bytes=-0"}, false},
				{"multi range", "GET", "", map[string]string{"Range": "bytes=0-1,5-6"}, false},
				{"range with spaces", "GET", "", map[string]string{"Range": "bytes= 0-1"}, false},
				{"if-range", "GET", "", map[string]string{"Range": "bytes=0-1", "If-Range": app.etag}, false},
				{"if-modified-since alone", "GET", "", map[string]string{"If-Modified-Since": app.modified.Format(http.TimeFormat)}, false},
				{"if-match", "GET", "", map[string]string{"If-Match": `"nope"`}, false},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					hot := fetch(t, tt.method, tier.base+"/api/v1/documents/HOTDOC/content"+tt.query, tt.hdr)
					cold := fetch(t, tt.method, tier.base+"/api/v1/documents/COLDDOC/content"+tt.query, tt.hdr)
					want := "MISS"
					if tt.hot {
						want = "HOT"
					}
					if got := hot.header.Get("X-Cache"); got != want {
						t.Fatalf("X-Cache = %q, want %q", got, want)
					}
					if cold.header.Get("X-Cache") != "MISS" {
						t.Fatalf("the unpushed document was not proxied: %v", cold.header)
					}
					if strings.HasPrefix(cold.header.Get("Content-Type"), "multipart/") {
						return // a random boundary; X-Cache proved it was proxied
					}
					if hot.status != cold.status || hot.body != cold.body {
						t.Fatalf("hot %d %q\napp %d %q", hot.status, hot.body, cold.status, cold.body)
					}
					hh, ch := contractHeaders(hot.header), contractHeaders(cold.header)
					if !mapsEqual(hh, ch) {
						t.Fatalf("headers differ\nhot %v\napp %v", hh, ch)
					}
				})
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
