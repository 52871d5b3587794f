package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"docplat/internal/testdb"
)

type previewBody struct {
	Kind      string
	HTML      string
	Text      string
	Charset   string
	Truncated *bool
	Pages     int
	Reason    string
	Version   int
	Mime      string
	SHA256    string
}

func (r response) preview(t *testing.T) previewBody {
	t.Helper()
	var p previewBody
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("preview %s: %v", r.body, err)
	}
	return p
}

// metric reads one sample of the app's /metrics ("" when absent).
func (a *testApp) metric(series string) string {
	a.t.Helper()
	r := a.anon().do("GET", "/metrics", nil, nil)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(r.body)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// TestPreviews: Markdown comes rendered and sanitized, text decoded, PDF
// pages as PNG that revalidate with 304 and come from the cache the second
// time; a document the caller may not read is 404 for its preview and its
// pages; a damaged PDF is 422, a page it does not have 400.
func TestPreviews(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		var physics, chemistry struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Physics"}, 201, &physics)
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Chemistry"}, 201, &chemistry)
		for _, u := range []struct{ name, dept string }{{"pat", physics.ID}, {"cho", chemistry.ID}} {
			admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": u.name, "password": "password-" + u.name, "role": "member", "department_id": u.dept}, 201, nil)
		}
		owner, other := a.login("pat", "password-pat"), a.login("cho", "password-cho")

		md := owner.mustUpload("notes.md", "# 讲义\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) ![p](https://t.example/p.gif)\n", map[string]string{"visibility": "private"})
		r := owner.do("GET", "/api/v1/documents/"+md.ID+"/preview", nil, nil)
		p := r.preview(t)
		if r.status != 200 || p.Kind != "html" || !strings.Contains(p.HTML, "讲义</h1>") || strings.Contains(p.HTML, "<script") ||
			strings.Contains(p.HTML, "javascript:") || strings.Contains(p.HTML, "t.example") || p.Version != 1 || p.Truncated == nil || *p.Truncated {
			t.Errorf("markdown preview: %d %s", r.status, r.body)
		}
		if res := owner.do("GET", "/api/v1/documents/"+md.ID+"/preview", nil, map[string]string{"If-None-Match": r.header.Get("ETag")}); res.status != 304 {
			t.Errorf("markdown preview revalidated: %d", res.status)
		}
		for name, c := range map[string]*client{"other department": other, "anonymous": a.anon()} {
			for _, path := range []string{"/preview", "/versions/1/preview", "/preview?page=1"} {
				if res := c.do("GET", "/api/v1/documents/"+md.ID+path, nil, nil); res.status != 404 || res.errorCode() != "not_found" {
					t.Errorf("%s reading a private preview %s: %d %s", name, path, res.status, res.body)
				}
			}
		}
		// A new version: the preview follows it, the old one stays at its number.
		body, ct := multipartBody("notes.md", []byte("# 第二版\n"), nil)
		if res := owner.do("PUT", "/api/v1/documents/"+md.ID+"/content", body, map[string]string{"Content-Type": ct}); res.status != 200 {
			t.Fatalf("new version: %d %s", res.status, res.body)
		}
		if p := owner.do("GET", "/api/v1/documents/"+md.ID+"/preview", nil, nil).preview(t); p.Version != 2 || !strings.Contains(p.HTML, "第二版") {
			t.Errorf("preview after a new version: %+v", p)
		}
		if p := owner.do("GET", "/api/v1/documents/"+md.ID+"/versions/1/preview", nil, nil).preview(t); p.Version != 1 || !strings.Contains(p.HTML, "讲义") {
			t.Errorf("preview of version 1: %+v", p)
		}
		if res := owner.do("GET", "/api/v1/documents/"+md.ID+"/preview?page=1", nil, nil); res.status != 400 || res.errorCode() != "bad_request" {
			t.Errorf("a page of Markdown: %d %s", res.status, res.body)
		}

		txt := owner.mustUpload("a.txt", "plain <b>text</b>", map[string]string{"visibility": "public"})
		if p := a.anon().do("GET", "/api/v1/documents/"+txt.ID+"/preview", nil, nil).preview(t); p.Kind != "text" || p.Text != "plain <b>text</b>" || p.Charset != "utf-8" {
			t.Errorf("text preview: %+v", p)
		}
		for _, q := range []string{"page=0", "page=x", "page=1&width=0", "page=1&width=99999", "width=100"} {
			if res := owner.do("GET", "/api/v1/documents/"+txt.ID+"/preview?"+q, nil, nil); res.status != 400 {
				t.Errorf("?%s: %d %s", q, res.status, res.body)
			}
		}

		if _, err := exec.LookPath("pdftoppm"); err != nil && os.Getenv("CI") == "" {
			t.Skip("poppler-utils is not installed; run scripts/test-deps.sh")
		}
		pdf, err := os.ReadFile("../../preview/testdata/two-pages.pdf")
		if err != nil {
			t.Fatal(err)
		}
		r, d := owner.upload("slides.pdf", pdf, map[string]string{"visibility": "private"})
		if r.status != 201 {
			t.Fatalf("upload PDF: %d %s", r.status, r.body)
		}
		if p := owner.do("GET", "/api/v1/documents/"+d.ID+"/preview", nil, nil).preview(t); p.Kind != "pdf" || p.Pages != 2 || p.Mime != "application/pdf" {
			t.Errorf("PDF preview: %+v", p)
		}
		page := "/api/v1/documents/" + d.ID + "/preview?page=2&width=200"
		r = owner.do("GET", page, nil, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "image/png" || !strings.Contains(r.header.Get("Cache-Control"), "max-age=31536000") {
			t.Fatalf("page 2: %d %v %s", r.status, r.header, r.body)
		}
		if img, err := png.Decode(bytes.NewReader(r.body)); err != nil || img.Bounds().Dx() != 240 {
			t.Errorf("page 2 is not a PNG 240 wide: %v", err)
		}
		etag := r.header.Get("ETag")
		if etag != `"pv1-`+d.SHA256+`-2-240"` {
			t.Errorf("page ETag %s", etag)
		}
		if res := owner.do("GET", page, nil, map[string]string{"If-None-Match": etag}); res.status != 304 || len(res.body) != 0 {
			t.Errorf("page revalidated: %d", res.status)
		}
		hits := `docplat_preview_cache_total{entry="page",result="hit"}`
		if got := a.metric(hits); got != "" {
			t.Errorf("cache hits before any: %s", got)
		}
		if res := owner.do("GET", "/api/v1/documents/"+d.ID+"/preview?page=2&width=230", nil, nil); res.status != 200 || !bytes.Equal(res.body, r.body) {
			t.Errorf("page 2 again: %d", res.status)
		}
		if got := a.metric(hits); got != "1" {
			t.Errorf("cache hits after the second request: %q, want 1", got)
		}
		if got := a.metric(`docplat_preview_renders_total{op="page",outcome="ok"}`); got != "1" {
			t.Errorf("page renders: %q, want 1", got)
		}
		if res := other.do("GET", page, nil, map[string]string{"If-None-Match": etag}); res.status != 404 {
			t.Errorf("another department's private page with its ETag: %d", res.status)
		}
		if res := owner.do("GET", "/api/v1/documents/"+d.ID+"/preview?page=3", nil, nil); res.status != 400 || !strings.Contains(string(res.body), "2 pages") {
			t.Errorf("page 3 of 2: %d %s", res.status, res.body)
		}
		broken := owner.mustUpload("broken.pdf", "%PDF-1.4\nnot really a PDF\n", map[string]string{"visibility": "private"})
		for _, q := range []string{"", "?page=1"} {
			if res := owner.do("GET", "/api/v1/documents/"+broken.ID+"/preview"+q, nil, nil); res.status != 422 || res.errorCode() != "unprocessable" {
				t.Errorf("damaged PDF preview%s: %d %s", q, res.status, res.body)
			}
		}
	})
}
