package contentpolicy

import (
	"mime"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDispositionCarriesTheFilenameBackAndMarksDownloads: whatever the
// name (spaces, quotes, separators, non-ASCII, the longest allowed), a
// client parsing Content-Disposition gets the uploaded name back, inline
// for a view and as an attachment for a download.
func TestDispositionCarriesTheFilenameBackAndMarksDownloads(t *testing.T) {
	for _, name := range []string{"handout.pdf", "a b.txt", "文档 管理.pdf", `say "hi";x=1.txt`, "tab\there.txt", strings.Repeat("é", 127) + ".md"} {
		for _, download := range []bool{false, true} {
			h := Content{SHA256: "ab", Mime: "text/plain; charset=utf-8", Filename: name}.Header(download)
			kind, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
			want := "inline"
			if download {
				want = "attachment"
			}
			if err != nil || kind != want || params["filename"] != name {
				t.Errorf("%q download=%v: %q parses as %q %q (%v)", name, download, h.Get("Content-Disposition"), kind, params, err)
			}
		}
	}
}

// TestHeadersFollowTheContent: the entity tag is the quoted hash, the media
// type is the stored one, only public content is cacheable by shared
// caches, the security headers are always there, and Last-Modified is
// written as net/http writes it (and not for a zero time).
func TestHeadersFollowTheContent(t *testing.T) {
	mod := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		name string
		c    Content
		want map[string]string
	}{
		{"public", Content{SHA256: "abc", Mime: "text/markdown; charset=utf-8", Filename: "a.md", Public: true, Modified: mod},
			map[string]string{"Etag": `"abc"`, "Content-Type": "text/markdown; charset=utf-8", "Cache-Control": "public, no-cache",
				"Last-Modified": "Tue, 03 Mar 2026 21:06:07 GMT", "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
				"Content-Disposition": "inline; filename=a.md"}},
		{"private, no time", Content{SHA256: "def", Mime: "application/pdf", Filename: "b.pdf"},
			map[string]string{"Etag": `"def"`, "Content-Type": "application/pdf", "Cache-Control": "private, no-cache",
				"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Content-Disposition": "inline; filename=b.pdf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.c.Header(false)
			if len(h) != len(tt.want) {
				t.Errorf("headers %v, want exactly %v", h, tt.want)
			}
			for k, v := range tt.want {
				if got := h.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if got := tt.c.Modified; !got.IsZero() && h.Get("Last-Modified") != got.UTC().Format(http.TimeFormat) {
				t.Errorf("Last-Modified %q is not net/http's format of %v", h.Get("Last-Modified"), got)
			}
			set := http.Header{}
			tt.c.SetHeader(set, false)
			h.Del("Last-Modified") // http.ServeContent writes it on the app's side
			if !reflect.DeepEqual(set, h) {
				t.Errorf("SetHeader %v, Header without Last-Modified %v", set, h)
			}
		})
	}
}

func TestDerivedHeaders(t *testing.T) {
	h := http.Header{}
	Derived{SHA256: "abc", Name: "page-1-960.png", Mime: "image/png", Immutable: true}.SetHeader(h)
	if h.Get("ETag") != `"d-abc-page-1-960.png"` || h.Get("Content-Type") != "image/png" || h.Get("Cache-Control") != "private, max-age=31536000, immutable" ||
		h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "default-src 'none'" {
		t.Errorf("immutable derived headers: %v", h)
	}
	Derived{SHA256: "abc", Name: "page-1-960.png", Mime: "image/png"}.SetHeader(h)
	if h.Get("Cache-Control") != "private, no-cache" {
		t.Errorf("latest version's derived file: %v", h)
	}
}
