package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"docplat/blob"
	"docplat/internal/testdb"
	"docplat/preview"
)

type previewBody struct {
	Kind      string
	HTML      string
	Text      string
	Charset   string
	Truncated *bool
	Pages     int
	Width     int
	Height    int
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

// noPreviewJobs starts an app that enqueues no preview jobs (extraction
// jobs still run): a test that shows the state before the job ran does
// the job itself (generate). TestPreviewJobs shows the queue's workers
// doing it.
func noPreviewJobs(c *config) { c.Docs.HasPreview = func(string) bool { return false } }

// generate does the preview job's work for d's current content, as the
// work queue does after an upload or a new version.
func (a *testApp) generate(d document) {
	a.t.Helper()
	if err := a.generateErr(d); err != nil {
		a.t.Fatalf("generating the preview of %s: %v", d.ID, err)
	}
}

func (a *testApp) generateErr(d document) error {
	f, err := a.blobs.Open(d.SHA256)
	if err != nil {
		return err
	}
	defer f.Close()
	return a.previews.Generate(a.t.(*testing.T).Context(), preview.Source{SHA256: d.SHA256, Size: d.Size, Mime: d.Mime, Body: f})
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

// TestPreviews: Markdown comes rendered and sanitized, text decoded; a PDF
// is pending until its job generated its pages, which then come as PNG
// with the content's ETag, 304 and Range rules; a document the caller may
// not read is 404 for its preview and its pages; a damaged PDF is 422, a
// page it does not have 400.
func TestPreviews(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b, noPreviewJobs)
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
		// Nothing is rendered on request: pending until the job ran.
		r = owner.do("GET", "/api/v1/documents/"+d.ID+"/preview", nil, nil)
		if p := r.preview(t); r.status != 200 || p.Kind != "pending" || r.header.Get("Retry-After") == "" || r.header.Get("ETag") != "" {
			t.Errorf("PDF preview before generation: %d %v %+v", r.status, r.header, p)
		}
		if res := owner.do("GET", "/api/v1/documents/"+d.ID+"/preview?page=1", nil, nil); res.status != 503 || res.header.Get("Retry-After") == "" {
			t.Errorf("a page before generation: %d %v %s", res.status, res.header, res.body)
		}
		a.generate(d)
		if p := owner.do("GET", "/api/v1/documents/"+d.ID+"/preview", nil, nil).preview(t); p.Kind != "pdf" || p.Pages != 2 || p.Mime != "application/pdf" {
			t.Errorf("PDF preview: %+v", p)
		}
		for _, c := range []struct {
			path, cache string
		}{
			{"/api/v1/documents/" + d.ID + "/versions/1/preview?page=2&width=200", "private, max-age=31536000, immutable"},
			{"/api/v1/documents/" + d.ID + "/preview?page=2&width=200", "private, no-cache"}, // the latest version: revalidated
		} {
			r = owner.do("GET", c.path, nil, nil)
			if r.status != 200 || r.header.Get("Content-Type") != "image/png" || r.header.Get("Cache-Control") != c.cache || r.header.Get("Accept-Ranges") != "bytes" {
				t.Fatalf("page 2: %d %v %s", r.status, r.header, r.body)
			}
			if img, err := png.Decode(bytes.NewReader(r.body)); err != nil || img.Bounds().Dx() != 480 {
				t.Errorf("page 2 is not a PNG 480 wide: %v", err)
			}
			etag := r.header.Get("ETag")
			if etag != `"d-`+d.SHA256+`-page-2-480.png"` {
				t.Errorf("page ETag %s", etag)
			}
			if res := owner.do("GET", c.path, nil, map[string]string{"If-None-Match": etag}); res.status != 304 || len(res.body) != 0 || res.header.Get("ETag") != etag {
				t.Errorf("page revalidated: %d %v", res.status, res.header)
			}
			if res := owner.do("GET", c.path, nil, map[string]string{"Range": "bytes=1-3"}); res.status != 206 || string(res.body) != "PNG" ||
				res.header.Get("Content-Range") != fmt.Sprintf("bytes 1-3/%d", len(r.body)) {
				t.Errorf("a range of the page: %d %v %q", res.status, res.header, res.body)
			}
			if res := owner.do("GET", c.path, nil, map[string]string{"Range": "bytes=1-3", "If-Range": `"other"`}); res.status != 200 || !bytes.Equal(res.body, r.body) {
				t.Errorf("a range with a stale If-Range: %d", res.status)
			}
			if res := other.do("GET", c.path, nil, map[string]string{"If-None-Match": etag}); res.status != 404 {
				t.Errorf("another department's private page with its ETag: %d", res.status)
			}
		}
		if res := owner.do("GET", "/api/v1/documents/"+d.ID+"/preview?page=3", nil, nil); res.status != 400 || !strings.Contains(string(res.body), "2 pages") {
			t.Errorf("page 3 of 2: %d %s", res.status, res.body)
		}
		// upload, not mustUpload: nothing here needs its extraction done.
		r, broken := owner.upload("broken.pdf", []byte("%PDF-1.4\nnot really a PDF\n"), map[string]string{"visibility": "private"})
		if r.status != 201 {
			t.Fatalf("upload damaged PDF: %d %s", r.status, r.body)
		}
		if err := a.generateErr(broken); err == nil {
			t.Error("a damaged PDF generated")
		}
		for _, q := range []string{"", "?page=1"} {
			if res := owner.do("GET", "/api/v1/documents/"+broken.ID+"/preview"+q, nil, nil); res.status != 422 || res.errorCode() != "unprocessable" {
				t.Errorf("damaged PDF preview%s: %d %s", q, res.status, res.body)
			}
		}
	})
}

// docx writes a Word file of the given paragraphs by hand (the three
// parts Word needs).
func docx(t *testing.T, paragraphs ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	var body strings.Builder
	for _, p := range paragraphs {
		body.WriteString("<w:p><w:r><w:t>" + p + "</w:t></w:r></w:p>")
	}
	for _, f := range []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body.String() + `</w:body></w:document>`},
	} {
		w, err := z.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f.body))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestOfficeAndImagePreviews: a Word file's pages (through LibreOffice)
// and an image's thumbnail are pending, then served; a new version gets
// previews of its own while the old one keeps its; an identical file
// shares them; the collector removes the previews with their blob and
// never those of a live one.
func TestOfficeAndImagePreviews(t *testing.T) {
	if _, err := exec.LookPath("soffice"); err != nil && os.Getenv("CI") == "" {
		t.Skip("LibreOffice is not installed; run scripts/test-deps.sh")
	}
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b, noPreviewJobs)
		admin := a.admin()
		word := docx(t, "力学讲义 第一章", "Newton's laws of motion")
		r, d := admin.upload("lecture.docx", word, map[string]string{"visibility": "private"})
		if r.status != 201 {
			t.Fatalf("upload docx: %d %s", r.status, r.body)
		}
		if p := admin.do("GET", "/api/v1/documents/"+d.ID+"/preview", nil, nil).preview(t); p.Kind != "pending" {
			t.Errorf("docx before generation: %+v", p)
		}
		a.generate(d)
		if p := admin.do("GET", "/api/v1/documents/"+d.ID+"/preview", nil, nil).preview(t); p.Kind != "office" || p.Pages != 1 {
			t.Errorf("docx preview: %+v", p)
		}
		if res := admin.do("GET", "/api/v1/documents/"+d.ID+"/preview?page=1&width=960", nil, nil); res.status != 200 || res.header.Get("Content-Type") != "image/png" {
			t.Errorf("docx page: %d %v", res.status, res.header)
		} else if img, err := png.Decode(bytes.NewReader(res.body)); err != nil || img.Bounds().Dx() != 960 {
			t.Errorf("docx page is not a PNG 960 wide: %v", err)
		}

		// A new version: an image. Its previews are its own; version 1 keeps its.
		body, ct := multipartBody("lecture.png", pngOf(t, 1000, 500), nil)
		var v2 document
		if res := admin.do("PUT", "/api/v1/documents/"+d.ID+"/content", body, map[string]string{"Content-Type": ct}); res.status != 200 {
			t.Fatalf("new version: %d %s", res.status, res.body)
		} else {
			json.Unmarshal(res.body, &v2)
		}
		if p := admin.do("GET", "/api/v1/documents/"+d.ID+"/preview", nil, nil).preview(t); p.Kind != "pending" || p.Version != 2 {
			t.Errorf("the new version before generation: %+v", p)
		}
		a.generate(v2)
		if p := admin.do("GET", "/api/v1/documents/"+d.ID+"/preview", nil, nil).preview(t); p.Kind != "image" || p.Pages != 1 || p.Width != 1000 || p.Height != 500 {
			t.Errorf("image preview: %+v", p)
		}
		if res := admin.do("GET", "/api/v1/documents/"+d.ID+"/preview?page=1&width=480", nil, nil); res.status != 200 {
			t.Errorf("image thumbnail: %d", res.status)
		} else if img, err := png.Decode(bytes.NewReader(res.body)); err != nil || img.Bounds().Dx() != 480 || img.Bounds().Dy() != 240 {
			t.Errorf("thumbnail is not 480x240: %v", err)
		}
		if p := admin.do("GET", "/api/v1/documents/"+d.ID+"/versions/1/preview", nil, nil).preview(t); p.Kind != "office" {
			t.Errorf("version 1 after version 2: %+v", p)
		}
		// An identical Word file elsewhere shares version 1's previews.
		_, twin := admin.upload("copy.docx", word, map[string]string{"visibility": "private"})
		if p := admin.do("GET", "/api/v1/documents/"+twin.ID+"/preview", nil, nil).preview(t); p.Kind != "office" || twin.SHA256 != d.SHA256 {
			t.Errorf("an identical file's preview: %+v", p)
		}

		// The original goes (to the trash, then purged from it): its image
		// is collected with its previews; the Word file lives on in the
		// twin, with its previews.
		if res := admin.do("DELETE", "/api/v1/documents/"+d.ID, nil, nil); res.status != 204 {
			t.Fatalf("delete: %d %s", res.status, res.body)
		}
		if res := admin.do("DELETE", "/api/v1/trash/"+d.ID, nil, nil); res.status != 204 {
			t.Fatalf("purge: %d %s", res.status, res.body)
		}
		gc, err := withClock(a, 2*a.cfg.Docs.BlobGrace).CollectGarbage(t.Context())
		if err != nil || gc.Blobs != 1 {
			t.Fatalf("gc = %+v, %v", gc, err)
		}
		if _, err := a.blobs.OpenDerived(v2.SHA256, preview.PageName(1, 480)); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("the collected image's thumbnail: %v", err)
		}
		if res := admin.do("GET", "/api/v1/documents/"+twin.ID+"/preview?page=1", nil, nil); res.status != 200 {
			t.Errorf("the live twin's page after gc: %d", res.status)
		}
		// Previews of a blob that is gone (made while it was collected)
		// go at the next collection.
		orphan := strings.Repeat("ab", 32)
		if err := a.blobs.PutDerived(orphan, "preview-v1.json", strings.NewReader("{}"), 10); err != nil {
			t.Fatal(err)
		}
		if gc, err := withClock(a, 2*a.cfg.Docs.BlobGrace).CollectGarbage(t.Context()); err != nil || gc.Derived != 1 || gc.Blobs != 0 {
			t.Errorf("gc of orphaned previews = %+v, %v", gc, err)
		}
		if res := admin.do("GET", "/api/v1/documents/"+twin.ID+"/preview?page=1", nil, nil); res.status != 200 {
			t.Errorf("the live twin's page after the second gc: %d", res.status)
		}
	})
}

// BenchmarkPreviewReads measures the read path of a generated preview over
// loopback HTTP (embedded mode, a public two-page PDF): a page image and
// the JSON preview, beside the content itself, in the same run. A page is
// a file read (its manifest and its PNG), no rendering.
//
//	go test -run '^$' -bench PreviewReads ./cmd/docplat
func BenchmarkPreviewReads(b *testing.B) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		b.Skip("poppler-utils is not installed")
	}
	a := newTestApp(b, testdb.SQLite)
	pdf, err := os.ReadFile("../../preview/testdata/two-pages.pdf")
	if err != nil {
		b.Fatal(err)
	}
	_, d := a.admin().upload("slides.pdf", pdf, map[string]string{"visibility": "public"})
	f, err := a.blobs.Open(d.SHA256)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := a.previews.Generate(b.Context(), preview.Source{SHA256: d.SHA256, Size: d.Size, Mime: d.Mime, Body: f}); err != nil {
		b.Fatal(err)
	}
	page := "/versions/1/preview?page=1&width=960"
	size := len(a.anon().do("GET", "/api/v1/documents/"+d.ID+page, nil, nil).body)
	ids := []string{d.ID}
	b.Run("content", func(b *testing.B) { benchContent(b, a.srv.URL, ids, "/content", "", len(pdf)) })
	b.Run("page", func(b *testing.B) { benchContent(b, a.srv.URL, ids, page, "", size) })
	b.Run("json", func(b *testing.B) {
		benchHTTP(b, a.srv.URL, ids, "/versions/1/preview", "", 0, func(body io.Reader) error {
			var p struct{ Pages int }
			if err := json.NewDecoder(body).Decode(&p); err != nil || p.Pages != 2 {
				return fmt.Errorf("preview %+v: %v", p, err)
			}
			return nil
		})
	})
}
