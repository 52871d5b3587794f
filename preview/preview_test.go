package preview

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"docplat/errs"
)

// needPoppler skips a test that renders when poppler-utils is missing,
// except in CI, where scripts/test-deps.sh installs it.
func needPoppler(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("poppler-utils is not installed (scripts/test-deps.sh installs it)")
		}
		t.Skip("poppler-utils is not installed; run scripts/test-deps.sh")
	}
}

func newService(t *testing.T, opt Options) (*Service, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	if opt.CacheDir == "" {
		opt.CacheDir = t.TempDir()
	}
	opt.Registerer = reg
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

// pdfSource is a PDF as a Source; onDisk hands poppler the file itself.
func pdfSource(t *testing.T, b []byte, onDisk bool) Source {
	t.Helper()
	sum := sha256.Sum256(b)
	src := Source{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b)), Mime: "application/pdf", Body: bytes.NewReader(b)}
	if onDisk {
		p := filepath.Join(t.TempDir(), "doc.pdf")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		src.Body = f
	}
	return src
}

// onePagePDF writes a PDF of one page of w x h points by hand.
func onePagePDF(w, h int) []byte {
	return []byte(fmt.Sprintf("%%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"+
		"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"+
		"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] >> endobj\n"+
		"trailer << /Root 1 0 R >>\n%%%%EOF\n", w, h))
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pngSize(t *testing.T, b []byte) (int, int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

// gate counts the renders admitted.
type countingGate struct{ n int }

func (g *countingGate) admit(context.Context) (func(), error) { g.n++; return func() {}, nil }

func TestPDFPagesRenderedAndCached(t *testing.T) {
	needPoppler(t)
	ctx := context.Background()
	s, reg := newService(t, Options{})
	src := pdfSource(t, readFile(t, "two-pages.pdf"), true)
	g := &countingGate{}

	p, err := s.Describe(ctx, src, g.admit)
	if err != nil || p.Kind != KindPDF || p.Pages != 2 {
		t.Fatalf("Describe = %+v, %v; want a PDF of 2 pages", p, err)
	}
	// Page 1 is 200 x 100 points; page 2 is 100 x 200 turned by 90°: both show 2:1.
	for page := 1; page <= 2; page++ {
		b, err := s.Page(ctx, src, page, 200, g.admit)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if w, h := pngSize(t, b); w != 240 || h != 120 {
			t.Errorf("page %d is %dx%d, want 240x120 (width 200 rounds up to 240)", page, w, h)
		}
	}
	if g.n != 3 {
		t.Errorf("%d renders went through the gate, want 3 (the page count, two pages)", g.n)
	}
	// From the cache now: poppler is not asked again, even if it is gone.
	s.poppler.pdfinfo, s.poppler.pdftoppm = "/nonexistent", "/nonexistent"
	b, err := s.Page(ctx, src, 1, 240, g.admit)
	if err != nil || g.n != 3 {
		t.Fatalf("cached page: %v after %d renders", err, g.n)
	}
	if w, _ := pngSize(t, b); w != 240 {
		t.Errorf("cached page is %d wide", w)
	}
	if got := testutil.ToFloat64(s.m.cache.WithLabelValues("page", "hit")); got != 1 {
		t.Errorf("page cache hits = %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "docplat_preview_renders_total", "docplat_preview_render_seconds"); err != nil || n != 4 {
		t.Errorf("render metrics: %d series, %v", n, err)
	}
	if got := testutil.ToFloat64(s.m.renders.WithLabelValues("page", "ok")); got != 2 {
		t.Errorf("page renders = %v, want 2", got)
	}
}

func TestPDFPageErrors(t *testing.T) {
	needPoppler(t)
	ctx := context.Background()
	s, _ := newService(t, Options{MaxPDFBytes: 4096})
	src := pdfSource(t, readFile(t, "two-pages.pdf"), false) // through a copy: the body is not a file
	for _, page := range []int{0, 3} {
		if _, err := s.Page(ctx, src, page, 200, nil); errs.CodeOf(err) != errs.BadRequest || !strings.Contains(errs.MessageOf(err), "2 pages") {
			t.Errorf("page %d: %v, want bad_request naming the 2 pages", page, err)
		}
	}
	broken := pdfSource(t, []byte("%PDF-1.4\nthis is no PDF at all\n"), true)
	if p, err := s.Describe(ctx, broken, nil); errs.CodeOf(err) != errs.Unprocessable {
		t.Errorf("broken PDF: %+v, %v; want unprocessable", p, err)
	}
	if _, err := s.Page(ctx, broken, 1, 200, nil); errs.CodeOf(err) != errs.Unprocessable {
		t.Errorf("broken PDF page: %v; want unprocessable", err)
	}
	if runs := testutil.ToFloat64(s.m.renders.WithLabelValues("info", "unreadable")); runs != 1 {
		t.Errorf("poppler read the broken PDF %v times, want once (the verdict is cached)", runs)
	}
	big := pdfSource(t, append(onePagePDF(100, 100), make([]byte, 5000)...), true)
	if p, err := s.Describe(ctx, big, nil); err != nil || p.Kind != KindNone || p.Reason == "" {
		t.Errorf("PDF over the limit: %+v, %v; want kind none with a reason", p, err)
	}
	if _, err := s.Page(ctx, pdfSource(t, []byte("hello"), true), 1, 200, nil); err == nil {
		t.Error("a page of a PDF over the limit was rendered")
	}
	shed := errs.New(errs.Unavailable, "busy")
	fresh := pdfSource(t, onePagePDF(50, 50), true)
	if _, err := s.Page(ctx, fresh, 1, 200, func(context.Context) (func(), error) { return nil, shed }); !errors.Is(err, shed) {
		t.Errorf("a shed render answered %v", err)
	}
}

// TestTallPageIsCut: a page made to exhaust memory at a given width is
// cut at maxAspect times the width.
func TestTallPageIsCut(t *testing.T) {
	needPoppler(t)
	s, _ := newService(t, Options{})
	b, err := s.Page(context.Background(), pdfSource(t, onePagePDF(10, 14400), true), 1, 480, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w, h := pngSize(t, b); w != 480 || h != maxAspect*480 {
		t.Errorf("tall page is %dx%d, want 480x%d", w, h, maxAspect*480)
	}
}

// fakeTool writes an executable standing in for a poppler tool.
func fakeTool(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPopplerFailureIsUnavailable(t *testing.T) {
	ctx := context.Background()
	src := pdfSource(t, onePagePDF(100, 100), true)
	for name, script := range map[string]string{
		"timeout": "exec sleep 5",
		"crash":   "kill -SEGV $$",
		"status":  "echo internal >&2; exit 99",
	} {
		s, _ := newService(t, Options{Timeout: 300 * time.Millisecond, PDFInfo: fakeTool(t, script), PDFToPPM: fakeTool(t, script)})
		start := time.Now()
		_, err := s.Describe(ctx, src, nil)
		if errs.CodeOf(err) != errs.Unavailable {
			t.Errorf("%s: %v, want unavailable", name, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: took %v with a 300ms timeout", name, d)
		}
		if got := testutil.ToFloat64(s.m.renders.WithLabelValues("info", "failed")); got != 1 {
			t.Errorf("%s: failed renders = %v", name, got)
		}
	}
}

func TestNoPopplerMeansNoPDFPreview(t *testing.T) {
	s, _ := newService(t, Options{PDFInfo: "/nonexistent/pdfinfo", PDFToPPM: "/nonexistent/pdftoppm"})
	p, err := s.Describe(context.Background(), pdfSource(t, onePagePDF(10, 10), true), nil)
	if err != nil || p.Kind != KindNone || !strings.Contains(p.Reason, "poppler") {
		t.Errorf("without poppler: %+v, %v", p, err)
	}
}

func TestDescribeTextAndMarkdown(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, Options{MaxTextBytes: 10, MaxMarkdownBytes: 1 << 10})
	src := func(mime, body string) Source {
		return Source{Mime: mime, Size: int64(len(body)), Body: strings.NewReader(body)}
	}
	p, err := s.Describe(ctx, src("text/markdown; charset=utf-8", "# Hi\n<script>x</script>"), nil)
	if err != nil || p.Kind != KindHTML || !strings.Contains(p.HTML, "<h1") || strings.Contains(p.HTML, "<script") || *p.Truncated {
		t.Errorf("markdown: %+v, %v", p, err)
	}
	p, err = s.Describe(ctx, src("text/plain; charset=utf-8", "0123456789abc"), nil)
	if err != nil || p.Kind != KindText || p.Text != "0123456789" || !*p.Truncated || p.Charset != "utf-8" {
		t.Errorf("long text: %+v, %v", p, err)
	}
	p, err = s.Describe(ctx, src("text/csv; charset=utf-8", "a,b"), nil)
	if err != nil || p.Kind != KindText || p.Text != "a,b" || *p.Truncated {
		t.Errorf("csv: %+v, %v", p, err)
	}
	p, err = s.Describe(ctx, src("image/png", "\x89PNG"), nil)
	if err != nil || p.Kind != KindNone {
		t.Errorf("png: %+v, %v", p, err)
	}
	if _, err := s.Page(ctx, src("text/plain", "x"), 1, 100, nil); errs.CodeOf(err) != errs.BadRequest {
		t.Errorf("a page of text: %v", err)
	}
}

func TestWidth(t *testing.T) {
	for in, want := range map[int]int{1: 240, 240: 240, 241: 480, 960: 960, 1000: 1280, 1920: 1920, 4096: 1920} {
		if got := Width(in); got != want {
			t.Errorf("Width(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestCacheCollect(t *testing.T) {
	dir := t.TempDir()
	c, err := openCache(dir, 1000)
	if err != nil {
		t.Fatal(err)
	}
	sha := func(i int) string { return fmt.Sprintf("%02d", i) + strings.Repeat("a", 62) }
	old := time.Now().Add(-time.Hour)
	for i := range 4 {
		if err := c.put(sha(i), "1.240.png", make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		at := old.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(c.path(sha(i), "1.240.png"), at, at); err != nil {
			t.Fatal(err)
		}
	}
	stale := filepath.Join(dir, "tmp", "put-stale")
	if err := os.WriteFile(stale, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(stale, old, old)
	c.max = 250 // only now: put would have trimmed in the background
	// Content 3 is gone: its entry goes whatever its age; of 0, 1, 2 the
	// oldest goes until 200 bytes remain.
	n, err := c.collect(context.Background(), func(s string) bool { return s != sha(3) })
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true, true, false} {
		if _, ok := c.get(sha(i), "1.240.png"); ok != want {
			t.Errorf("entry %d kept = %v, want %v (removed %d)", i, ok, want, n)
		}
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a stale staging file is left: %v", err)
	}
	if got := c.bytes.Load(); got != 200 {
		t.Errorf("cache counts %d bytes, want 200", got)
	}
}
