package nginx

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"docplat/contentpolicy"
	"docplat/internal/testhttp"
)

// contentApp is an app instance behind the tier: it answers every request
// with its name in X-App and one document's bytes. What the hot tier must
// answer like is the real app's handler: cmd/docplat's
// TestHotTierAnswersLikeTheApp compares the two case by case.
type contentApp struct {
	body     []byte
	etag     string
	ctype    string
	filename string
	modified time.Time
	srv      *httptest.Server
	name     string
}

func (a *contentApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-App", a.name)
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(a.body)
}

// entry is the app's document as the hot-document source pushes it, with
// the headers contentpolicy decides.
func (a *contentApp) entry(id string, rev int64, vis string) Entry {
	p := contentpolicy.Content{SHA256: strings.Trim(a.etag, `"`), Mime: a.ctype, Filename: a.filename, Public: vis == "public", Modified: a.modified}
	return Entry{ID: id, Rev: rev, Version: 1, Visibility: vis, View: p.Header(false), Download: p.Header(true), Body: a.body}
}

func startContentTier(t *testing.T, a *contentApp, cfg Config) *testTier {
	t.Helper()
	requireNginx(t)
	a.srv = httptest.NewServer(a)
	t.Cleanup(a.srv.Close)
	fake := &fakeApp{name: a.name, srv: a.srv}
	return startTier(t, cfg, fake)
}

// fetch is testhttp.Fetch under the name these tests use.
func fetch(t *testing.T, method, url string, hdr map[string]string) answer {
	t.Helper()
	a := testhttp.Fetch(t, method, url, hdr)
	return answer{a.Status, a.Header, a.Body}
}

type answer struct {
	status int
	header http.Header
	body   string
}

// edgeOnly are headers nginx adds that the entry does not carry.
var edgeOnly = []string{"Date", "Server", "Connection", "X-Cache", "X-Upstream", "Keep-Alive"}

// entryHeaders is h without edgeOnly.
func entryHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		if !slices.Contains(edgeOnly, k) {
			out[k] = v
		}
	}
	return out
}
