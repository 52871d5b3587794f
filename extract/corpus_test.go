package extract

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"docplat/internal/testcorpus"
)

// doc is a generated test document: a file, its stored media type, and
// words of the text it was made from.
type doc struct {
	name, format, mime, path string
	words                    []string
}

const (
	mimeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	mimePPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	mimeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mimeODT  = "application/vnd.oasis.opendocument.text"
	mimeODP  = "application/vnd.oasis.opendocument.presentation"
	mimeODS  = "application/vnd.oasis.opendocument.spreadsheet"
)

// corpusDocs builds, from n Chinese and n English pages of the shared
// corpus, each page in each format: legacy-encoded text, Office files
// written here, and (when LibreOffice is installed) PDFs and Office files
// LibreOffice wrote. withLibreOffice false leaves those out.
func corpusDocs(tb testing.TB, n int, withLibreOffice bool) []doc {
	tb.Helper()
	pages := append(testcorpus.Pages(tb, "zh", n), testcorpus.Pages(tb, "en", n)...)
	dir := tb.TempDir()
	var out []doc
	add := func(p testcorpus.Page, format, mime, ext string, b []byte, source string) {
		path := filepath.Join(dir, format+"-"+strings.TrimSuffix(p.Name, ".txt")+ext)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			tb.Fatal(err)
		}
		out = append(out, doc{name: p.Name, format: format, mime: mime, path: path, words: testcorpus.Words(source, 12)})
	}
	odt, odp, ods, txt := map[string][]byte{}, map[string][]byte{}, map[string][]byte{}, map[string][]byte{}
	for _, p := range pages {
		paras := testcorpus.Paragraphs(p.Text)
		slides := testcorpus.Groups(paras, 8)
		rows := testcorpus.Rows(paras, 4)
		if p.Lang == "zh" {
			add(p, "gb18030", "text/plain; charset=gb18030", ".txt", testcorpus.GB18030(tb, p.Text), p.Text)
			gbk := testcorpus.GBK(p.Text)
			add(p, "gbk-labelled-utf8", "text/plain; charset=utf-8", ".txt", gbk, testcorpus.EncodableText(gbk, false))
			big5 := testcorpus.Big5(p.Text)
			add(p, "big5", "text/plain; charset=big5", ".txt", big5, testcorpus.EncodableText(big5, true))
		}
		add(p, "docx", mimeDOCX, ".docx", testcorpus.DOCX(paras), p.Text)
		add(p, "pptx", mimePPTX, ".pptx", testcorpus.PPTX(slides), p.Text)
		add(p, "xlsx", mimeXLSX, ".xlsx", testcorpus.XLSX(rows), p.Text)
		add(p, "odt", mimeODT, ".odt", testcorpus.ODT(paras), p.Text)
		add(p, "odp", mimeODP, ".odp", testcorpus.ODP(slides), p.Text)
		add(p, "ods", mimeODS, ".ods", testcorpus.ODS(rows), p.Text)
		base := p.Lang + "-" + strings.TrimSuffix(p.Name, ".txt")
		odt[base+".odt"], odp[base+".odp"], ods[base+".ods"], txt[base+".txt"] = testcorpus.ODT(paras), testcorpus.ODP(slides), testcorpus.ODS(rows), []byte(p.Text)
	}
	if !withLibreOffice {
		return out
	}
	if _, err := testcorpus.LookSoffice(); err != nil && os.Getenv("CI") != "true" {
		tb.Logf("LibreOffice (soffice) is not installed: its PDFs and Office files are not tested (scripts/test-deps.sh installs it)")
		return out
	}
	byName := map[string]testcorpus.Page{}
	for _, p := range pages {
		byName[p.Lang+"-"+strings.TrimSuffix(p.Name, ".txt")] = p
	}
	for _, c := range []struct {
		format, mime, ext string
		from              map[string][]byte
	}{
		{"pdf (LibreOffice)", "application/pdf", ".pdf", txt},
		{"docx (LibreOffice)", mimeDOCX, ".docx", odt},
		{"pptx (LibreOffice)", mimePPTX, ".pptx", odp},
		{"xlsx (LibreOffice)", mimeXLSX, ".xlsx", ods},
	} {
		for name, b := range testcorpus.Convert(tb, strings.TrimPrefix(c.ext, "."), c.from) {
			p := byName[strings.TrimSuffix(name, filepath.Ext(name))]
			add(p, c.format, c.mime, c.ext, b, p.Text)
		}
	}
	return out
}

// missing answers the words not in text. Han words are looked for with
// white space removed: a PDF's lines break between any two characters.
func missing(text string, words []string) []string {
	squeezed := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, text)
	var out []string
	for _, w := range words {
		if !strings.Contains(text, w) && !(unicode.Is(unicode.Han, []rune(w)[0]) && strings.Contains(squeezed, w)) {
			out = append(out, w)
		}
	}
	return out
}
