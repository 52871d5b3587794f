package preview

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"docplat/blob"
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

// fixture is a service over a real blob store in a temp directory.
type fixture struct {
	t     *testing.T
	s     *Service
	blobs *blob.Store
	reg   *prometheus.Registry
}

func newFixture(t *testing.T, opt Options) *fixture {
	t.Helper()
	blobs, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	opt.Store, opt.Registerer, opt.WorkDir = blobs, reg, t.TempDir()
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, s: s, blobs: blobs, reg: reg}
}

// source stores b as a blob and opens it as a Source, as the server does.
func (f *fixture) source(b []byte, mime string) Source {
	f.t.Helper()
	st, err := f.blobs.Stage(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := st.Commit(); err != nil {
		f.t.Fatal(err)
	}
	file, err := f.blobs.Open(st.SHA256)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { file.Close() })
	return Source{SHA256: st.SHA256, Size: st.Size, Mime: mime, Body: file}
}

// page reads a generated page image and answers its size.
func (f *fixture) page(src Source, page, width int) (int, int) {
	f.t.Helper()
	file, name, err := f.s.Page(context.Background(), src, page, width)
	if err != nil {
		f.t.Fatalf("page %d at %d: %v", page, width, err)
	}
	defer file.Close()
	if name != PageName(page, Width(width)) {
		f.t.Errorf("page %d at %d is named %s", page, width, name)
	}
	img, err := png.Decode(file)
	if err != nil {
		f.t.Fatalf("page %d at %d is not a PNG: %v", page, width, err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

func (f *fixture) renders(op, outcome string) float64 {
	return testutil.ToFloat64(f.s.m.renders.WithLabelValues(op, outcome))
}

// onePagePDF writes a PDF of one page of w x h points by hand.
func onePagePDF(w, h int) []byte { return manyPagePDF(1, w, h) }

// manyPagePDF writes a PDF of n empty pages of w x h points.
func manyPagePDF(n, w, h int) []byte {
	var b strings.Builder
	b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	fmt.Fprintf(&b, "2 0 obj << /Type /Pages /Kids [")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d 0 R ", i+3)
	}
	fmt.Fprintf(&b, "] /Count %d /MediaBox [0 0 %d %d] >> endobj\n", n, w, h)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d 0 obj << /Type /Page /Parent 2 0 R >> endobj\n", i+3)
	}
	b.WriteString("trailer << /Root 1 0 R >>\n%%EOF\n")
	return []byte(b.String())
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testImage(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	return img
}

func encoded(t *testing.T, enc func(io.Writer, image.Image) error, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const (
	mimeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	mimePPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	mimeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mimeODT  = "application/vnd.oasis.opendocument.text"
	mimeODP  = "application/vnd.oasis.opendocument.presentation"
	mimeODS  = "application/vnd.oasis.opendocument.spreadsheet"
)

// TestGenerateEveryFormat: each format's preview is pending until
// Generate ran, then names its pages, whose images come at every width.
func TestGenerateEveryFormat(t *testing.T) {
	needOffice(t)
	f := newFixture(t, Options{})
	text, slides, sheet := odt(t, 3), odp(t, 4), ods(t, 20)
	cases := []struct {
		name, mime string
		body       []byte
		kind       string
		pages      int // at least
		own        int // an image's own width (0: a document's pages fill every width)
	}{
		{"pdf", "application/pdf", readFile(t, "two-pages.pdf"), KindPDF, 2, 0},
		{"odt", mimeODT, text, KindOffice, 3, 0},
		{"odp", mimeODP, slides, KindOffice, 4, 0},
		{"ods", mimeODS, sheet, KindOffice, 1, 0},
		{"docx", mimeDOCX, toOOXML(t, text, "odt", "docx"), KindOffice, 3, 0},
		{"pptx", mimePPTX, toOOXML(t, slides, "odp", "pptx"), KindOffice, 4, 0},
		{"xlsx", mimeXLSX, toOOXML(t, sheet, "ods", "xlsx"), KindOffice, 1, 0},
		{"png", "image/png", encoded(t, png.Encode, testImage(2000, 1000)), KindImage, 1, 2000},
		{"jpeg", "image/jpeg", encoded(t, func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, nil) }, testImage(1200, 600)), KindImage, 1, 1200},
		{"gif (narrower than the widths)", "image/gif", encoded(t, func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) }, testImage(300, 150)), KindImage, 1, 300},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			src := f.source(c.body, c.mime)
			if p, err := f.s.Describe(ctx, src); err != nil || p.Kind != KindPending {
				t.Fatalf("before Generate: %+v, %v; want pending", p, err)
			}
			if _, _, err := f.s.Page(ctx, src, 1, 960); errs.CodeOf(err) != errs.Unavailable {
				t.Errorf("a page before Generate: %v; want unavailable", err)
			}
			start := time.Now()
			if err := f.s.Generate(ctx, src); err != nil {
				t.Fatalf("Generate: %v", err)
			}
			t.Logf("%s: generated in %v", c.name, time.Since(start).Round(time.Millisecond))
			p, err := f.s.Describe(ctx, src)
			if err != nil || p.Kind != c.kind || p.Pages < c.pages || len(p.Widths) != len(Widths) {
				t.Fatalf("after Generate: %+v, %v; want kind %s with at least %d pages", p, err, c.kind, c.pages)
			}
			for _, w := range Widths {
				want := w
				if c.own > 0 {
					want = min(w, c.own)
				}
				if got, _ := f.page(src, p.Pages, w); got != want {
					t.Errorf("page %d at %d is %d wide, want %d", p.Pages, w, got, want)
				}
			}
			if _, _, err := f.s.Page(ctx, src, p.Pages+1, 960); errs.CodeOf(err) != errs.BadRequest {
				t.Errorf("page %d of %d: %v", p.Pages+1, p.Pages, err)
			}
			if c.kind == KindOffice {
				pdf, err := f.blobs.OpenDerived(src.SHA256, ConvertedPDF)
				if err != nil {
					t.Errorf("the converted PDF is not kept: %v", err)
				} else {
					pdf.Close()
				}
			}
		})
	}
	if n, err := testutil.GatherAndCount(f.reg, "docplat_preview_generations_total"); err != nil || n != 3 {
		t.Errorf("generation metrics: %d series (want pdf, office, image), %v", n, err)
	}
}

// TestPDFPageImages: a turned page is drawn as displayed, a request's
// width rounds up to a generated one, and a page made to exhaust memory
// is cut at maxAspect times its width.
func TestPDFPageImages(t *testing.T) {
	needPoppler(t)
	f := newFixture(t, Options{})
	ctx := context.Background()
	src := f.source(readFile(t, "two-pages.pdf"), "application/pdf")
	if err := f.s.Generate(ctx, src); err != nil {
		t.Fatal(err)
	}
	// Page 1 is 200 x 100 points; page 2 is 100 x 200 turned by 90°: both show 2:1.
	for page := 1; page <= 2; page++ {
		if w, h := f.page(src, page, 200); w != 480 || h != 240 {
			t.Errorf("page %d is %dx%d, want 480x240 (width 200 rounds up to 480)", page, w, h)
		}
	}
	tall := f.source(onePagePDF(10, 14400), "application/pdf")
	if err := f.s.Generate(ctx, tall); err != nil {
		t.Fatal(err)
	}
	if w, h := f.page(tall, 1, 480); w != 480 || h != maxAspect*480 {
		t.Errorf("tall page is %dx%d, want 480x%d", w, h, maxAspect*480)
	}
}

// TestIdenticalContentsSharePreviews: generating a content again runs no
// converter (it is one content, however many documents or versions hold
// it); other bytes get previews of their own.
func TestIdenticalContentsSharePreviews(t *testing.T) {
	needPoppler(t)
	f := newFixture(t, Options{})
	ctx := context.Background()
	a := f.source(onePagePDF(100, 100), "application/pdf")
	if err := f.s.Generate(ctx, a); err != nil {
		t.Fatal(err)
	}
	runs := f.renders("pages", "ok")
	again := f.source(onePagePDF(100, 100), "application/pdf") // the same bytes uploaded again
	if err := f.s.Generate(ctx, again); err != nil || f.renders("pages", "ok") != runs {
		t.Errorf("generating identical bytes again: %v, %v runs after %v", err, f.renders("pages", "ok"), runs)
	}
	b := f.source(onePagePDF(100, 50), "application/pdf") // a new version
	if p, _ := f.s.Describe(ctx, b); p.Kind != KindPending {
		t.Errorf("new bytes before Generate: %+v", p)
	}
	if err := f.s.Generate(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, h := f.page(b, 1, 480); h != 240 {
		t.Errorf("the new version's page is %d high, want 240", h)
	}
	if _, h := f.page(a, 1, 480); h != 480 {
		t.Errorf("the old version's page is %d high, want 480", h)
	}
}

// zipBomb is an Office file whose one entry inflates to more than
// maxUnzippedBytes (half a megabyte zipped).
func zipBomb(t *testing.T) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.Create("content.xml")
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for i := 0; i < maxUnzippedBytes>>20+1; i++ {
		w.Write(zeros)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngHeader is the start of a PNG claiming w x h pixels (the rest is
// missing: a decoder that trusted it would allocate w*h*4 bytes first).
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		panic(err)
	}
	p := b.Bytes()
	// IHDR's width and height are at bytes 16..24, its CRC (of type and
	// data, bytes 12..29) at 29..33.
	binary.BigEndian.PutUint32(p[16:], w)
	binary.BigEndian.PutUint32(p[20:], h)
	binary.BigEndian.PutUint32(p[29:], crc32.ChecksumIEEE(p[12:29]))
	return p
}

// TestUnpreviewableFilesFailCleanly: a damaged, protected or hostile
// file fails its own generation with unprocessable, in bounded time, is
// recorded so that it is never tried again, and leaves the service
// generating other previews.
func TestUnpreviewableFilesFailCleanly(t *testing.T) {
	needOffice(t)
	f := newFixture(t, Options{MaxImagePixels: 50_000_000})
	ctx := context.Background()
	good := onePagePDF(100, 100)
	encrypted := filepath.Join(t.TempDir(), "enc.pdf")
	// qpdf exits 3 for warnings; the file is written all the same.
	if out, err := exec.Command("qpdf", "--encrypt", "user-pw", "owner-pw", "256", "--", filepath.Join("testdata", "two-pages.pdf"), encrypted).CombinedOutput(); err != nil {
		if _, serr := os.Stat(encrypted); serr != nil {
			t.Fatalf("qpdf (scripts/test-deps.sh installs it) cannot encrypt: %v %s", err, out)
		}
	}
	enc, _ := os.ReadFile(encrypted)
	notZip := []byte("PK\x03\x04 this is no zip at all")
	var noDocument bytes.Buffer // a zip, but no Word document in it
	z := zip.NewWriter(&noDocument)
	w, _ := z.Create("hello.txt")
	w.Write([]byte("hello"))
	z.Close()
	for _, c := range []struct {
		name, mime string
		body       []byte
	}{
		{"damaged pdf", "application/pdf", []byte("%PDF-1.4\nthis is no PDF at all\n")},
		{"encrypted pdf", "application/pdf", enc},
		{"not a zip as docx", mimeDOCX, notZip},
		{"zip bomb as docx", mimeDOCX, zipBomb(t)},
		{"a zip without a document as docx", mimeDOCX, noDocument.Bytes()},
		{"odt of broken XML", mimeODT, odf(t, mimeODT, "", "<office:text><text:p>unclosed")},
		{"image bomb", "image/png", pngHeader(100000, 100000)},
		{"truncated png", "image/png", encoded(t, png.Encode, testImage(100, 100))[:200]},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := f.source(c.body, c.mime)
			start := time.Now()
			err := f.s.Generate(ctx, src)
			if errs.CodeOf(err) != errs.Unprocessable {
				t.Fatalf("Generate: %v; want unprocessable", err)
			}
			t.Logf("%s: failed in %v: %v", c.name, time.Since(start).Round(time.Millisecond), err)
			if c.name == "image bomb" && !strings.Contains(err.Error(), "pixels") {
				t.Errorf("the image bomb was not refused by its size: %v", err)
			}
			if _, err := f.s.Describe(ctx, src); errs.CodeOf(err) != errs.Unprocessable || errs.MessageOf(err) == "" {
				t.Errorf("Describe after the failure: %v; want unprocessable with the reason", err)
			}
			if _, _, err := f.s.Page(ctx, src, 1, 480); errs.CodeOf(err) != errs.Unprocessable {
				t.Errorf("a page after the failure: %v", err)
			}
			before := testutil.ToFloat64(f.s.m.generations.WithLabelValues(pagedKind(c.mime), "unpreviewable"))
			if err := f.s.Generate(ctx, src); err != nil || testutil.ToFloat64(f.s.m.generations.WithLabelValues(pagedKind(c.mime), "unpreviewable")) != before {
				t.Errorf("a recorded failure was tried again: %v", err)
			}
		})
	}
	// A PDF of 5,000 pages: the first MaxPages get images, in bounded time.
	f2 := newFixture(t, Options{MaxPages: 12})
	huge := f2.source(manyPagePDF(5000, 50, 50), "application/pdf")
	start := time.Now()
	if err := f2.s.Generate(ctx, huge); err != nil {
		t.Fatal(err)
	}
	if p, err := f2.s.Describe(ctx, huge); err != nil || p.Pages != 12 || p.TotalPages != 5000 {
		t.Errorf("a 5000-page PDF: %+v, %v; want 12 pages of 5000", p, err)
	}
	t.Logf("5000-page PDF: 12 pages in %v", time.Since(start).Round(time.Millisecond))
	// The service still works.
	src := f.source(good, "application/pdf")
	if err := f.s.Generate(ctx, src); err != nil {
		t.Fatalf("a good PDF after the failures: %v", err)
	}
	f.page(src, 1, 480)
}

// fakeTool writes an executable standing in for a converter.
func fakeTool(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConverterBounds: a converter that runs past its wall time is
// killed with every process it started and nothing is recorded (the job
// retries: a loaded machine, more likely than the file); one killed by a
// signal (prlimit's CPU and memory bounds) records the file as not
// previewable; one that fails otherwise leaves nothing recorded.
func TestConverterBounds(t *testing.T) {
	ctx := context.Background()
	pids := filepath.Join(t.TempDir(), "pids")
	for _, c := range []struct {
		name, script string
		code         errs.Code
		recorded     bool
	}{
		// The fake starts a grandchild, as LibreOffice's launcher does.
		{"timeout", "sleep 300 & echo $! >> " + pids + "; echo $$ >> " + pids + "; exec sleep 300", errs.Unavailable, false},
		{"crash", "kill -SEGV $$", errs.Unprocessable, true},
		{"cpu bound", "kill -XCPU $$", errs.Unprocessable, true},
		{"status", "echo internal >&2; exit 99", errs.Unavailable, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, kind := range []string{"pdf", "office"} {
				opt := Options{Timeout: 200 * time.Millisecond, OfficeTimeout: 300 * time.Millisecond}
				body, mime := onePagePDF(100, 100), "application/pdf"
				if kind == "office" {
					body, mime = odt(t, 1), mimeODT
					opt.SOffice = fakeTool(t, c.script)
				} else {
					opt.PDFInfo, opt.PDFToPPM = fakeTool(t, c.script), fakeTool(t, c.script)
				}
				f := newFixture(t, opt)
				src := f.source(body, mime)
				start := time.Now()
				err := f.s.Generate(ctx, src)
				if errs.CodeOf(err) != c.code {
					t.Errorf("%s: %v, want %s", kind, err, c.code)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("%s: took %v with a %v timeout", kind, d, opt.Timeout)
				}
				_, derr := f.s.Describe(ctx, src)
				if recorded := derr != nil; recorded != c.recorded {
					t.Errorf("%s: recorded = %v (%v), want %v", kind, recorded, derr, c.recorded)
				}
			}
		})
	}
	b, _ := os.ReadFile(pids)
	for _, l := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(l)
		deadline := time.Now().Add(3 * time.Second)
		for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("process %d outlived its converter's timeout", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if len(strings.Fields(string(b))) < 4 {
		t.Errorf("the fake converters recorded %q", b)
	}
}

func TestWithoutToolsThereAreNoPages(t *testing.T) {
	f := newFixture(t, Options{PDFInfo: "/nonexistent/pdfinfo", PDFToPPM: "/nonexistent/pdftoppm", SOffice: "/nonexistent/soffice"})
	ctx := context.Background()
	for mime, want := range map[string]string{"application/pdf": "poppler", mimeDOCX: "poppler"} {
		p, err := f.s.Describe(ctx, f.source([]byte("x"+mime), mime))
		if err != nil || p.Kind != KindNone || !strings.Contains(p.Reason, want) {
			t.Errorf("%s without tools: %+v, %v", mime, p, err)
		}
	}
	// Images need no tool.
	src := f.source(encoded(t, png.Encode, testImage(10, 10)), "image/png")
	if err := f.s.Generate(ctx, src); err != nil {
		t.Fatal(err)
	}
	if w, h := f.page(src, 1, 960); w != 10 || h != 10 {
		t.Errorf("image page %dx%d", w, h)
	}
}

func TestDescribeTextAndMarkdown(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{MaxTextBytes: 10, MaxMarkdownBytes: 1 << 10})
	src := func(mime, body string) Source {
		return Source{Mime: mime, Size: int64(len(body)), Body: strings.NewReader(body)}
	}
	p, err := f.s.Describe(ctx, src("text/markdown; charset=utf-8", "# Hi\n<script>x</script>"))
	if err != nil || p.Kind != KindHTML || !strings.Contains(p.HTML, "<h1") || strings.Contains(p.HTML, "<script") || *p.Truncated {
		t.Errorf("markdown: %+v, %v", p, err)
	}
	p, err = f.s.Describe(ctx, src("text/plain; charset=utf-8", "0123456789abc"))
	if err != nil || p.Kind != KindText || p.Text != "0123456789" || !*p.Truncated || p.Charset != "utf-8" {
		t.Errorf("long text: %+v, %v", p, err)
	}
	p, err = f.s.Describe(ctx, src("text/csv; charset=utf-8", "a,b"))
	if err != nil || p.Kind != KindText || p.Text != "a,b" || *p.Truncated {
		t.Errorf("csv: %+v, %v", p, err)
	}
	p, err = f.s.Describe(ctx, src("application/zip", "PK"))
	if err != nil || p.Kind != KindNone {
		t.Errorf("zip: %+v, %v", p, err)
	}
	if _, _, err := f.s.Page(ctx, src("text/plain", "x"), 1, 100); errs.CodeOf(err) != errs.BadRequest {
		t.Errorf("a page of text: %v", err)
	}
	if err := f.s.Generate(ctx, src("text/plain", "x")); err != nil {
		t.Errorf("generating text: %v", err)
	}
}

func TestWidth(t *testing.T) {
	for in, want := range map[int]int{1: 480, 480: 480, 481: 960, 960: 960, 1000: 1440, 1920: 1440, 4096: 1440} {
		if got := Width(in); got != want {
			t.Errorf("Width(%d) = %d, want %d", in, got, want)
		}
	}
}

// BenchmarkGenerateOffice measures a 10-page Word file and a 20-slide
// deck from LibreOffice's conversion to the last page image stored (run
// with -benchtime=1x: a second iteration would find the first's previews).
func BenchmarkGenerateOffice(b *testing.B) {
	if _, err := exec.LookPath("soffice"); err != nil {
		b.Skip("LibreOffice is not installed")
	}
	for _, c := range []struct {
		name, mime, from, to string
		make                 func(testing.TB, int) []byte
		n                    int
	}{
		{"docx-10-pages", mimeDOCX, "odt", "docx", odt, 10},
		{"pptx-20-slides", mimePPTX, "odp", "pptx", odp, 20},
	} {
		b.Run(c.name, func(b *testing.B) {
			blobs, err := blob.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			reg := prometheus.NewRegistry()
			s, err := New(Options{Store: blobs, WorkDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler), Registerer: reg})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				b.StopTimer()
				body := toOOXMLb(b, c.make(b, c.n), c.from, c.to)
				st, err := blobs.Stage(bytes.NewReader(body), int64(len(body)))
				if err != nil {
					b.Fatal(err)
				}
				st.Commit()
				f, _ := blobs.Open(st.SHA256)
				b.StartTimer()
				if err := s.Generate(context.Background(), Source{SHA256: st.SHA256, Size: st.Size, Mime: c.mime, Body: f}); err != nil {
					b.Fatal(err)
				}
				f.Close()
				p, _ := s.Describe(context.Background(), Source{SHA256: st.SHA256, Mime: c.mime})
				b.ReportMetric(float64(p.Pages), "pages")
			}
			// Where the time went: LibreOffice's conversion, poppler's pages.
			mfs, _ := reg.Gather()
			for _, mf := range mfs {
				if mf.GetName() != "docplat_preview_render_seconds" {
					continue
				}
				for _, m := range mf.GetMetric() {
					for _, l := range m.GetLabel() {
						if l.GetName() == "op" {
							b.ReportMetric(m.GetHistogram().GetSampleSum()/float64(b.N), l.GetValue()+"-s/op")
						}
					}
				}
			}
		})
	}
}

// TestGiveUpIsFailedUntilALaterGenerate: a content whose generation was
// given up on (its job's last attempt failed, not for the file's sake)
// answers failed with the reason rather than pending; a later Generate
// of the same bytes makes its previews after all, and a GiveUp then
// keeps them.
func TestGiveUpIsFailedUntilALaterGenerate(t *testing.T) {
	f := newFixture(t, Options{PDFInfo: "/nonexistent/pdfinfo", PDFToPPM: "/nonexistent/pdftoppm", SOffice: "/nonexistent/soffice"})
	ctx := context.Background()
	src := f.source(encoded(t, png.Encode, testImage(12, 8)), "image/png")
	if p, err := f.s.Describe(ctx, src); err != nil || p.Kind != KindPending {
		t.Fatalf("before anything: %+v, %v", p, err)
	}
	if err := f.s.GiveUp(src.SHA256, src.Mime, "the disk is full"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Describe(ctx, f.source(encoded(t, png.Encode, testImage(12, 8)), "image/png")); errs.CodeOf(err) != errs.Unprocessable || !strings.Contains(err.Error(), "the disk is full") {
		t.Fatalf("after GiveUp: %v, want unprocessable with the reason", err)
	}
	src = f.source(encoded(t, png.Encode, testImage(12, 8)), "image/png")
	if err := f.s.Generate(ctx, src); err != nil {
		t.Fatal(err)
	}
	if w, h := f.page(src, 1, 960); w != 12 || h != 8 {
		t.Errorf("image page %dx%d after the later Generate", w, h)
	}
	if err := f.s.GiveUp(src.SHA256, src.Mime, "again"); err != nil {
		t.Fatal(err)
	}
	if p, err := f.s.Describe(ctx, f.source(encoded(t, png.Encode, testImage(12, 8)), "image/png")); err != nil || p.Kind != KindImage {
		t.Fatalf("a GiveUp after the previews were made: %+v, %v", p, err)
	}
}
