package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestShareCountsDownloadOncePerDownload pins what counts against a share
// link's max_downloads (documentation/api.md).
func TestShareCountsDownloadOncePerDownload(t *testing.T) {
	for _, c := range []struct {
		method, rng string
		status      int
		counts      bool
	}{
		{"GET", "", 200, true},
		{"GET", "bytes=0-99", 206, true},
		{"GET", "bytes=0-", 206, true},
		{"GET", "bytes= 0-9, 20-29", 206, true},
		{"GET", "bytes=100-", 206, false},
		{"GET", "bytes=-100", 206, false},
		{"GET", "bytes=5-9,0-4", 206, false},
		{"GET", "bytes=100-", 200, true}, // the Range was ignored (If-Range): a whole download
		{"GET", "", 304, false},
		{"HEAD", "", 200, false},
		{"GET", "", 416, false},
	} {
		r := httptest.NewRequest(c.method, "/s/x", nil)
		if c.rng != "" {
			r.Header.Set("Range", c.rng)
		}
		if got := shareCountsDownload(r, c.status); got != c.counts {
			t.Errorf("%s Range %q answered %d: counts %v, want %v", c.method, c.rng, c.status, got, c.counts)
		}
	}
}

func TestWantsHTMLOnlyForPages(t *testing.T) {
	for accept, want := range map[string]bool{
		"text/html,application/xhtml+xml,*/*;q=0.8": true, "application/xhtml+xml": true, " text/html ; q=1": true,
		"": false, "*/*": false, "application/json": false, "text/plain, text/htmlx": false,
	} {
		r := httptest.NewRequest(http.MethodGet, "/s/x", nil)
		r.Header.Set("Accept", accept)
		if got := wantsHTML(r); got != want {
			t.Errorf("Accept %q: %v, want %v", accept, got, want)
		}
	}
}
