package nginx

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// TestHotTierReplaysThePushedHeaders: a hot answer carries exactly the
// headers pushed for a view or a download (any header, repeated ones too,
// byte for byte) plus what the body decides (Accept-Ranges, Content-Length,
// Content-Range); a 304 and a 416 keep what net/http keeps of them.
func TestHotTierReplaysThePushedHeaders(t *testing.T) {
	app := &contentApp{name: "a", body: []byte("0123456789"), etag: `"e1"`, ctype: "text/csv; charset=utf-8",
		filename: "成绩 单.csv", modified: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	tier := startContentTier(t, app, Config{})
	e := app.entry("R1", 1, "public")
	e.View.Add("X-Extra", "one")
	e.View.Add("X-Extra", "two, three")
	if err := tier.client.Push(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	with := func(h http.Header, kv ...string) http.Header {
		out := h.Clone()
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	without := func(h http.Header, names ...string) http.Header {
		out := h.Clone()
		for _, n := range names {
			out.Del(n)
		}
		return out
	}
	size := strconv.Itoa(len(app.body))
	tests := []struct {
		name   string
		query  string
		hdr    map[string]string
		status int
		want   http.Header
	}{
		{"view", "", nil, 200, with(e.View, "Accept-Ranges", "bytes", "Content-Length", size)},
		{"download", "?download=1", nil, 200, with(e.Download, "Accept-Ranges", "bytes", "Content-Length", size)},
		{"range", "?download=1", map[string]string{"Range": "bytes=2-4"}, 206,
			with(e.Download, "Accept-Ranges", "bytes", "Content-Length", "3", "Content-Range", "bytes 2-4/"+size)},
		{"not modified", "", map[string]string{"If-None-Match": app.etag}, 304, without(e.View, "Content-Type", "Last-Modified")},
		{"not modified download", "?download=1", map[string]string{"If-None-Match": app.etag}, 304, without(e.Download, "Content-Type", "Last-Modified")},
		{"unsatisfiable", "", map[string]string{"Range": "bytes=10-"}, 416,
			with(without(e.View, "Etag", "Last-Modified", "Cache-Control", "Content-Disposition"),
				"Content-Type", "application/json; charset=utf-8", "Content-Range", "bytes */"+size, "Content-Length", "of the body")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := fetch(t, "GET", tier.base+"/api/v1/documents/R1/content"+tt.query, tt.hdr)
			if a.header.Get("X-Cache") != "HOT" || a.status != tt.status {
				t.Fatalf("%d %v, want a hot %d", a.status, a.header, tt.status)
			}
			want := tt.want
			if want.Get("Content-Length") == "of the body" { // the contract's error body
				want = with(want, "Content-Length", strconv.Itoa(len(a.body)))
			}
			if got := entryHeaders(a.header); !reflect.DeepEqual(got, want) {
				t.Fatalf("headers\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestPushWithoutUsableHeadersIsRefused: an entry the tier could not
// answer like the app (no ETag, a different one per variant, no
// Content-Type) is refused and never served.
func TestPushWithoutUsableHeadersIsRefused(t *testing.T) {
	app := &contentApp{name: "a", body: []byte("x"), etag: `"e1"`, ctype: "text/plain", filename: "f"}
	tier := startContentTier(t, app, Config{})
	tests := map[string]func(e *Entry){
		"no headers":        func(e *Entry) { e.View, e.Download = nil, nil },
		"no etag":           func(e *Entry) { e.View.Del("Etag"); e.Download.Del("Etag") },
		"unquoted etag":     func(e *Entry) { e.View.Set("Etag", "e1"); e.Download.Set("Etag", "e1") },
		"two etags":         func(e *Entry) { e.Download.Set("Etag", `"e2"`) },
		"no content type":   func(e *Entry) { e.Download.Del("Content-Type") },
		"no download":       func(e *Entry) { e.Download = nil },
		"empty header list": func(e *Entry) { e.View["X-Empty"] = []string{} },
	}
	for name, spoil := range tests {
		t.Run(name, func(t *testing.T) {
			e := app.entry("BAD", 1, "public")
			spoil(&e)
			err := tier.client.Push(context.Background(), e)
			if err == nil || errors.Is(err, ErrStale) {
				t.Fatalf("push = %v, want a refusal", err)
			}
			if a := fetch(t, "GET", tier.base+"/api/v1/documents/BAD/content", nil); a.header.Get("X-Cache") != "MISS" {
				t.Fatalf("a refused entry was served: %v", a.header)
			}
		})
	}
}
