package preview

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The tests' Office files: OpenDocument written here by hand (a zip of
// three XML files), and Office Open XML converted from them by LibreOffice
// itself, as a teacher's files are.

const odfNS = `xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" ` +
	`xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" ` +
	`xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" ` +
	`xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" office:version="1.2"`

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// odf zips an OpenDocument of media type mt whose office:body is body.
func odf(t testing.TB, mt, styles, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(mt))
	files := map[string]string{
		"META-INF/manifest.xml": `<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">` +
			`<manifest:file-entry manifest:full-path="/" manifest:media-type="` + mt + `"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>`,
		"content.xml": `<?xml version="1.0" encoding="UTF-8"?><office:document-content ` + odfNS + `><office:automatic-styles>` + styles +
			`</office:automatic-styles><office:body>` + body + `</office:body></office:document-content>`,
	}
	for _, name := range []string{"META-INF/manifest.xml", "content.xml"} {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// corpusLines are lines of real text (Chinese and English manual pages).
func corpusLines(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for _, f := range []string{"/work/shared/corpus/zh/Button.3tk.txt", "/work/shared/corpus/en/EVP_CIPHER-DES.7ssl.txt"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	}
	if len(out) == 0 {
		out = []string{"力学 mechanics: a handout line"}
	}
	for len(out) < n {
		out = append(out, out...)
	}
	return out[:n]
}

// odt is a text document of pages pages, each starting on a new page.
func odt(t testing.TB, pages int) []byte {
	lines := corpusLines(t, pages*8)
	var body strings.Builder
	body.WriteString("<office:text>")
	for p := 0; p < pages; p++ {
		style := "P1"
		if p > 0 {
			style = "PB"
		}
		fmt.Fprintf(&body, `<text:h text:outline-level="1" text:style-name="%s">第 %d 页 Page %d</text:h>`, style, p+1, p+1)
		for _, l := range lines[p*8 : p*8+8] {
			fmt.Fprintf(&body, "<text:p>%s</text:p>", esc(l))
		}
	}
	body.WriteString("</office:text>")
	return odf(t, "application/vnd.oasis.opendocument.text",
		`<style:style style:name="PB" style:family="paragraph"><style:paragraph-properties fo:break-before="page"/></style:style><style:style style:name="P1" style:family="paragraph"/>`,
		body.String())
}

// odp is a presentation of slides slides.
func odp(t testing.TB, slides int) []byte {
	lines := corpusLines(t, slides*3)
	var body strings.Builder
	body.WriteString("<office:presentation>")
	for s := 0; s < slides; s++ {
		fmt.Fprintf(&body, `<draw:page draw:name="s%d"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="10cm"><draw:text-box>`, s+1)
		fmt.Fprintf(&body, "<text:p>幻灯片 Slide %d</text:p>", s+1)
		for _, l := range lines[s*3 : s*3+3] {
			fmt.Fprintf(&body, "<text:p>%s</text:p>", esc(l))
		}
		body.WriteString("</draw:text-box></draw:frame></draw:page>")
	}
	body.WriteString("</office:presentation>")
	return odf(t, "application/vnd.oasis.opendocument.presentation", "", body.String())
}

// ods is a spreadsheet of rows rows.
func ods(t testing.TB, rows int) []byte {
	var body strings.Builder
	body.WriteString(`<office:spreadsheet><table:table table:name="成绩">`)
	for r := 0; r < rows; r++ {
		fmt.Fprintf(&body, `<table:table-row><table:table-cell office:value-type="string"><text:p>学生 %d</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="%d"><text:p>%d</text:p></table:table-cell></table:table-row>`, r+1, 60+r%40, 60+r%40)
	}
	body.WriteString("</table:table></office:spreadsheet>")
	return odf(t, "application/vnd.oasis.opendocument.spreadsheet", "", body.String())
}

// toOOXML converts an OpenDocument to ext (docx, pptx, xlsx) with
// LibreOffice.
func toOOXML(t *testing.T, in []byte, from, ext string) []byte {
	t.Helper()
	return toOOXMLb(t, in, from, ext)
}

func toOOXMLb(t testing.TB, in []byte, from, ext string) []byte {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "in."+from)
	if err := os.WriteFile(src, in, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("soffice", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless", "--norestore",
		"--convert-to", ext, "--outdir", dir, src)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "SAL_USE_VCLPLUGIN=svp"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice --convert-to %s: %v: %s", ext, err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "in."+ext))
	if err != nil {
		t.Fatalf("soffice wrote no %s: %v", ext, err)
	}
	return b
}

// needOffice skips a test that converts when LibreOffice is missing,
// except in CI, where scripts/test-deps.sh installs it.
func needOffice(t *testing.T) {
	t.Helper()
	needPoppler(t)
	if _, err := exec.LookPath("soffice"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("LibreOffice is not installed (scripts/test-deps.sh installs it)")
		}
		t.Skip("LibreOffice is not installed; run scripts/test-deps.sh")
	}
}
