package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"docplat/internal/sandbox"
	"docplat/internal/testcorpus"
)

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// docxOf is a docx whose document.xml is body (the rest as DOCX writes it).
func docxOf(body string) []byte {
	return testcorpus.Zip(
		[2]string{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		[2]string{"word/document.xml", body},
	)
}

// bigBody is a document.xml of n bytes of one repeated paragraph: it
// compresses about a thousand to one.
func bigBody(n int) string {
	const p = `<w:p><w:r><w:t>bomb</w:t></w:r></w:p>`
	return `<w:document xmlns:w="w"><w:body>` + strings.Repeat(p, n/len(p)) + `</w:body></w:document>`
}

// rawZip writes entries whose headers say what the test wants: declared
// sizes that lie about the deflated data that follows.
func rawZip(t *testing.T, name string, content []byte, declared uint64) []byte {
	t.Helper()
	var deflated bytes.Buffer
	zw := zip.NewWriter(&deflated)
	w, _ := zw.Create("x")
	w.Write(content)
	zw.Close()
	// Take the deflated bytes back out of that archive.
	zr, err := zip.NewReader(bytes.NewReader(deflated.Bytes()), int64(deflated.Len()))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := zr.File[0].OpenRaw()
	var comp bytes.Buffer
	comp.ReadFrom(raw)
	var out bytes.Buffer
	zw = zip.NewWriter(&out)
	for _, e := range [][2]string{{"[Content_Types].xml", "<Types/>"}} {
		w, _ := zw.Create(e[0])
		w.Write([]byte(e[1]))
	}
	rw, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: zr.File[0].CRC32,
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: declared})
	if err != nil {
		t.Fatal(err)
	}
	rw.Write(comp.Bytes())
	zw.Close()
	return out.Bytes()
}

// nested is a docx that embeds copies docx files, each of which embeds
// copies more, levels deep: an archive of archives (like 42.zip).
func nested(levels, copies int) []byte {
	b := docxOf(`<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>leaf</w:t></w:r></w:p></w:body></w:document>`)
	for l := 1; l <= levels; l++ {
		entries := [][2]string{
			{"[Content_Types].xml", `<Types/>`},
			{"word/document.xml", fmt.Sprintf(`<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>level%d</w:t></w:r></w:p></w:body></w:document>`, levels-l)},
		}
		for c := range copies {
			entries = append(entries, [2]string{fmt.Sprintf("word/embeddings/doc%d.docx", c), string(b)})
		}
		b = testcorpus.Zip(entries...)
	}
	return b
}

// Broken and hostile files fail their own call with a clean error of the
// right kind, in bounded time, and the next call works as if nothing had
// happened.
func TestHostileFilesFailCleanly(t *testing.T) {
	ctx := context.Background()
	good := writeFile(t, "good.docx", testcorpus.DOCX([]string{"力学 mechanics"}))
	pdf := onePagePDF(t, "力学 mechanics")

	manyEntries := [][2]string{{"word/document.xml", bigBody(100)}}
	for i := range 10001 {
		manyEntries = append(manyEntries, [2]string{fmt.Sprintf("word/media/%d.png", i), ""})
	}
	deep := `<w:document xmlns:w="w"><w:body>` + strings.Repeat("<w:p>", 100000) + strings.Repeat("</w:p>", 100000) + `</w:body></w:document>`
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` +
		`<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>`
	good2 := testcorpus.DOCX([]string{"a document cut short in the middle of its zip directory"})

	cases := []struct {
		name, file, mime string
		content          []byte
		want             error  // nil: text, or ErrUnreadable
		wantText         string // when want is nil
	}{
		{"random bytes as docx", "x.docx", mimeDOCX, bytes.Repeat([]byte("not a zip "), 100), ErrUnreadable, ""},
		{"truncated zip", "x.docx", mimeDOCX, good2[:len(good2)*2/3], ErrUnreadable, ""},
		{"zip without a document part", "x.docx", mimeDOCX, testcorpus.Zip([2]string{"a.txt", "hello"}), ErrUnreadable, ""},
		{"an odt that is a docx", "x.odt", mimeODT, testcorpus.DOCX([]string{"x"}), ErrUnreadable, ""},
		{"broken XML", "x.docx", mimeDOCX, docxOf(`<w:document><w:t>unclosed`), ErrUnreadable, ""},
		{"many entries", "x.docx", mimeDOCX, testcorpus.Zip(manyEntries...), ErrUnreadable, ""},
		{"huge ratio", "x.docx", mimeDOCX, docxOf(bigBody(64 << 20)), ErrUnreadable, ""},
		{"sizes that lie", "x.docx", mimeDOCX, rawZip(t, "word/document.xml", []byte(bigBody(8<<20)), 1000), ErrUnreadable, ""},
		{"archives nested in archives", "x.docx", mimeDOCX, nested(6, 4), nil, "level0"},
		{"deeply nested XML", "x.docx", mimeDOCX, docxOf(deep), ErrUnreadable, ""},
		{"entity expansion", "x.docx", mimeDOCX, docxOf(laughs), ErrUnreadable, ""},
		{"garbage as pdf", "x.pdf", "application/pdf", []byte("%PDF-1.4\n garbage garbage"), ErrUnreadable, ""},
		{"truncated pdf", "x.pdf", "application/pdf", pdf[:len(pdf)/2], ErrUnreadable, ""},
		{"encrypted pdf", "x.pdf", "application/pdf", encrypt(t, pdf), ErrUnreadable, ""},
		{"pdf whose page tree lies about its count", "x.pdf", "application/pdf", lyingCountPDF(), ErrUnreadable, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.file, tc.content)
			start := time.Now()
			got, err := Text(ctx, path, tc.mime, 1<<20)
			took := time.Since(start)
			t.Logf("%v in %v", err, took.Round(time.Millisecond))
			switch {
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("error = %v, want %v", err, tc.want)
			case tc.want == nil && err != nil:
				t.Errorf("error = %v, want none", err)
			case tc.want == nil && !strings.Contains(got, tc.wantText):
				t.Errorf("text = %.200q, want it to hold %q", got, tc.wantText)
			}
			if took > 10*time.Second {
				t.Errorf("took %v", took)
			}
			// And the next document is read as ever.
			if s, err := Text(ctx, good, mimeDOCX, 1<<20); err != nil || !strings.Contains(s, "力学") {
				t.Errorf("a good file after it: %q, %v", s, err)
			}
		})
	}
}

// Embedded documents are read one level deep, no deeper: a document's own
// attachments are searchable, an archive of archives costs one level.
func TestNestingIsBounded(t *testing.T) {
	path := writeFile(t, "n.docx", nested(3, 2))
	got, err := Text(context.Background(), path, mimeDOCX, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(got, "level0") != 1 || strings.Count(got, "level1") != 2 || strings.Contains(got, "level2") || strings.Contains(got, "leaf") {
		t.Errorf("text of a 3-level archive, 2 copies each: %q; want level0 once, level1 twice, nothing deeper", got)
	}
}

// The structural limits, each reached with small numbers in process.
func TestZipLimits(t *testing.T) {
	body := bigBody(2 << 20) // 2 MiB: past minRatioBytes, ratio about 1000
	cases := []struct {
		name    string
		content []byte
		lim     func(*zipLimits)
		want    error
	}{
		{"entries", testcorpus.Zip([2]string{"word/document.xml", "<a/>"}, [2]string{"b", ""}, [2]string{"c", ""}), func(l *zipLimits) { l.entries = 2 }, errEntries},
		{"ratio", docxOf(body), func(l *zipLimits) {}, errRatio},
		{"total", docxOf(body), func(l *zipLimits) { l.ratio = 1 << 20; l.total = 1 << 20 }, errTotal},
		{"total across nested archives", nested(1, 40), func(l *zipLimits) { l.total = 4 << 10 }, errTotal},
		{"xml depth", docxOf("<a><b><c><d/></c></b></a>"), func(l *zipLimits) { l.xmlDepth = 3 }, errXMLDepth},
		{"within every limit", docxOf(body), func(l *zipLimits) { l.ratio = 1 << 20 }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lim := defaultZipLimits
			tc.lim(&lim)
			var out bytes.Buffer
			err := officeFile(writeFile(t, "x.docx", tc.content), "docx", &capWriter{w: &out, left: 1 << 30}, lim)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
}

// A file that needs more time than the child has is killed at the limit:
// the call answers ErrLimit at about the limit, not when the work is done.
func TestChildIsKilledAtItsTimeLimit(t *testing.T) {
	saved := limits
	t.Cleanup(func() { limits = saved })
	limits.officeTimeout = 300 * time.Millisecond
	// 48 MiB of real text in paragraphs: it compresses like text (so no
	// ratio limit), and parsing it takes seconds.
	pages := testcorpus.Pages(t, "en", 200)
	var b strings.Builder
	b.WriteString(`<w:document xmlns:w="w"><w:body>`)
	for i := 0; b.Len() < 48<<20; i++ {
		for _, l := range testcorpus.Paragraphs(pages[i%len(pages)].Text) {
			fmt.Fprintf(&b, "<w:p><w:r><w:t>%d %s</w:t></w:r></w:p>", i, escape(l))
		}
	}
	b.WriteString(`</w:body></w:document>`)
	path := writeFile(t, "slow.docx", docxOf(b.String()))
	start := time.Now()
	_, err := Text(context.Background(), path, mimeDOCX, 200<<20)
	took := time.Since(start)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("error = %v, want ErrLimit", err)
	}
	if took > 3*time.Second {
		t.Errorf("answered after %v, the limit is %v", took, limits.officeTimeout)
	}
	t.Logf("%v after %v", err, took.Round(time.Millisecond))
}

// A caller that gives up stops the child at once.
func TestCancelStopsTheChild(t *testing.T) {
	path := writeFile(t, "x.docx", testcorpus.DOCX([]string{"x"}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Text(ctx, path, mimeDOCX, 100); !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func escape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// onePagePDF is a PDF of one page holding text, made by LibreOffice (the
// test is skipped without it, except in CI).
func onePagePDF(t *testing.T, text string) []byte {
	t.Helper()
	return testcorpus.Convert(t, "pdf", map[string][]byte{"one.txt": []byte(text)})["one.txt"]
}

// encrypt protects a PDF with a user password (qpdf).
func encrypt(t *testing.T, pdf []byte) []byte {
	t.Helper()
	qpdf, err := exec.LookPath("qpdf")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("qpdf is not installed; scripts/test-deps.sh installs it")
		}
		t.Skip("qpdf is not installed; run scripts/test-deps.sh")
	}
	in := writeFile(t, "plain.pdf", pdf)
	out := filepath.Join(t.TempDir(), "locked.pdf")
	if b, err := exec.Command(qpdf, "--encrypt", "secret-user", "secret-owner", "256", "--", in, out).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lyingCountPDF says it has a billion pages and has one.
func lyingCountPDF() []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
		"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1000000000 >> endobj\n" +
		"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\n" +
		"trailer << /Root 1 0 R >>\n%%EOF\n")
}

// hugePDF has n empty pages (an object per page, as a real file would).
func hugePDF(n int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := []int{}
	obj := func(s string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj %s endobj\n", len(offsets), s)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	var kids strings.Builder
	for i := range n {
		fmt.Fprintf(&kids, "%d 0 R ", i+4)
	}
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids.String(), n))
	const content = "BT /F1 12 Tf 72 720 Td (page) Tj ET"
	obj(fmt.Sprintf("<< /Length %d >> stream\n%s\nendstream", len(content), content))
	for range n {
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R /Resources %d 0 R >>", n+4))
	}
	obj("<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// A PDF of 200,000 pages is read in bounded time: its first pages, or
// ErrLimit.
func TestHugePageCountPDFIsBounded(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("poppler-utils is not installed")
	}
	path := writeFile(t, "huge.pdf", hugePDF(200000))
	start := time.Now()
	got, err := Text(context.Background(), path, "application/pdf", 1<<20)
	took := time.Since(start)
	t.Logf("%d bytes of text, %v, in %v", len(got), err, took.Round(time.Millisecond))
	if err != nil && !errors.Is(err, ErrLimit) {
		t.Errorf("error = %v, want none or ErrLimit", err)
	}
	if n := strings.Count(got, "page"); err == nil && (n == 0 || n > limits.pdfPages) {
		t.Errorf("read %d pages, want some and at most the %d a PDF is read to", n, limits.pdfPages)
	}
	if took > limits.pdfTimeout+5*time.Second {
		t.Errorf("took %v", took)
	}
}

// The Office child runs under its address-space bound: with one too small
// for the Go runtime to start in, even a good file fails, as ErrLimit.
func TestChildRunsUnderItsMemoryBound(t *testing.T) {
	if !sandbox.Bounded() {
		if os.Getenv("CI") == "true" {
			t.Fatal("prlimit (util-linux) is not installed")
		}
		t.Skip("prlimit (util-linux) is not installed")
	}
	if limits.officeMemory == 0 {
		t.Skip("a race-enabled binary runs the child without the bound")
	}
	saved := limits
	t.Cleanup(func() { limits = saved })
	limits.officeMemory = 128 << 20
	path := writeFile(t, "x.docx", testcorpus.DOCX([]string{"力学 mechanics"}))
	if _, err := Text(context.Background(), path, mimeDOCX, 1<<20); !errors.Is(err, ErrLimit) {
		t.Errorf("error = %v, want ErrLimit", err)
	}
	limits = saved
	if s, err := Text(context.Background(), path, mimeDOCX, 1<<20); err != nil || !strings.Contains(s, "力学") {
		t.Errorf("with the production bound: %q, %v", s, err)
	}
}
