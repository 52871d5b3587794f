package testcorpus

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// Office files written here, as small as their formats allow and complete
// enough for LibreOffice to open them too.

// Zip is an archive of the named entries, in order, deflated; an entry
// named "mimetype" is stored (OpenDocument wants it first and uncompressed).
func Zip(entries ...[2]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		method := zip.Deflate
		if e[0] == "mimetype" {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: method})
		if err != nil {
			panic(err)
		}
		w.Write([]byte(e[1]))
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

const xmlHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"

func contentTypes(overrides string) string {
	return xmlHead + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` + overrides + `</Types>`
}

func rels(rs ...[3]string) string {
	var b strings.Builder
	b.WriteString(xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for _, r := range rs {
		fmt.Fprintf(&b, `<Relationship Id="%s" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/%s" Target="%s"/>`, r[0], r[1], r[2])
	}
	b.WriteString(`</Relationships>`)
	return b.String()
}

// DOCX is a Word document of paragraphs, each split into two runs (as
// editors store text), with a tab and a deleted run the text must not show.
func DOCX(paras []string) []byte {
	var body strings.Builder
	for _, p := range paras {
		r := []rune(p)
		a, b := string(r[:len(r)/2]), string(r[len(r)/2:])
		fmt.Fprintf(&body, `<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, esc(a), esc(b))
	}
	doc := xmlHead + `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
		body.String() + `<w:p><w:r><w:t>end</w:t><w:tab/><w:t>mark</w:t></w:r><w:del><w:r><w:delText>DELETEDWORD</w:delText></w:r></w:del></w:p>` +
		`</w:body></w:document>`
	return Zip(
		[2]string{"[Content_Types].xml", contentTypes(`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>`)},
		[2]string{"_rels/.rels", rels([3]string{"rId1", "officeDocument", "word/document.xml"})},
		[2]string{"word/document.xml", doc},
	)
}

// PPTX is a slide deck, one slide per group of lines (slides numbered past
// 9, to show they are read in their order, not their names').
func PPTX(slides [][]string) []byte {
	const ns = `xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"`
	entries := [][2]string{}
	var overrides, ids, prels strings.Builder
	for i, lines := range slides {
		var paras strings.Builder
		for _, l := range lines {
			fmt.Fprintf(&paras, `<a:p><a:r><a:t>%s</a:t></a:r></a:p>`, esc(l))
		}
		n := i + 1
		entries = append(entries, [2]string{fmt.Sprintf("ppt/slides/slide%d.xml", n), xmlHead + `<p:sld ` + ns + `><p:cSld><p:spTree>` +
			`<p:sp><p:txBody><a:bodyPr/>` + paras.String() + `</p:txBody></p:sp></p:spTree></p:cSld></p:sld>`})
		fmt.Fprintf(&overrides, `<Override PartName="/ppt/slides/slide%d.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>`, n)
		fmt.Fprintf(&ids, `<p:sldId id="%d" r:id="rId%d"/>`, 255+n, n)
		fmt.Fprintf(&prels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide%d.xml"/>`, n, n)
	}
	head := [][2]string{
		{"[Content_Types].xml", contentTypes(`<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>` + overrides.String())},
		{"_rels/.rels", rels([3]string{"rId1", "officeDocument", "ppt/presentation.xml"})},
		{"ppt/presentation.xml", xmlHead + `<p:presentation ` + ns + `><p:sldIdLst>` + ids.String() + `</p:sldIdLst><p:sldSz cx="9144000" cy="6858000"/></p:presentation>`},
		{"ppt/_rels/presentation.xml.rels", xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` + prels.String() + `</Relationships>`},
	}
	return Zip(append(head, entries...)...)
}

// XLSX is a workbook of one sheet: text cells through the shared strings
// table (as Excel writes them), numbers inline.
func XLSX(rows [][]string) []byte {
	index := map[string]int{}
	var shared strings.Builder
	var sheet strings.Builder
	count := 0
	for r, row := range rows {
		fmt.Fprintf(&sheet, `<row r="%d">`, r+1)
		for c, cell := range row {
			ref := fmt.Sprintf("%c%d", 'A'+c%26, r+1)
			if _, err := strconv.ParseFloat(cell, 64); err == nil {
				fmt.Fprintf(&sheet, `<c r="%s"><v>%s</v></c>`, ref, esc(cell))
				continue
			}
			i, ok := index[cell]
			if !ok {
				i = len(index)
				index[cell] = i
				fmt.Fprintf(&shared, `<si><t xml:space="preserve">%s</t></si>`, esc(cell))
			}
			count++
			fmt.Fprintf(&sheet, `<c r="%s" t="s"><v>%d</v></c>`, ref, i)
		}
		sheet.WriteString(`</row>`)
	}
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	return Zip(
		[2]string{"[Content_Types].xml", contentTypes(`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>`)},
		[2]string{"_rels/.rels", rels([3]string{"rId1", "officeDocument", "xl/workbook.xml"})},
		[2]string{"xl/workbook.xml", xmlHead + `<workbook ` + ns + `><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		[2]string{"xl/_rels/workbook.xml.rels", rels([3]string{"rId1", "worksheet", "worksheets/sheet1.xml"}, [3]string{"rId2", "sharedStrings", "sharedStrings.xml"})},
		[2]string{"xl/sharedStrings.xml", xmlHead + fmt.Sprintf(`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, count, len(index)) + shared.String() + `</sst>`},
		[2]string{"xl/worksheets/sheet1.xml", xmlHead + `<worksheet ` + ns + `><sheetData>` + sheet.String() + `</sheetData></worksheet>`},
	)
}

const odfNS = `xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" ` +
	`xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" ` +
	`xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" office:version="1.3"`

func odf(mimetype, body string) []byte {
	return Zip(
		[2]string{"mimetype", mimetype},
		[2]string{"META-INF/manifest.xml", xmlHead + `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">` +
			`<manifest:file-entry manifest:full-path="/" manifest:media-type="` + mimetype + `"/>` +
			`<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>`},
		[2]string{"content.xml", xmlHead + `<office:document-content ` + odfNS + `><office:body>` + body + `</office:body></office:document-content>`},
	)
}

// odfPara is a paragraph with a span and a text:s (spaces) inside.
func odfPara(p string) string {
	r := []rune(p)
	a, b := string(r[:len(r)/2]), string(r[len(r)/2:])
	return `<text:p>` + esc(a) + `<text:span>` + esc(b) + `</text:span></text:p>`
}

// ODT is a text document of paragraphs, the first a heading.
func ODT(paras []string) []byte {
	var b strings.Builder
	for i, p := range paras {
		if i == 0 {
			b.WriteString(`<text:h text:outline-level="1">` + esc(p) + `</text:h>`)
			continue
		}
		b.WriteString(odfPara(p))
	}
	return odf("application/vnd.oasis.opendocument.text", `<office:text>`+b.String()+`</office:text>`)
}

// ODP is a presentation, one page per group of lines.
func ODP(slides [][]string) []byte {
	var b strings.Builder
	for i, lines := range slides {
		fmt.Fprintf(&b, `<draw:page draw:name="page%d"><draw:frame svg:width="20cm" svg:height="10cm" svg:x="1cm" svg:y="1cm"><draw:text-box>`, i+1)
		for _, l := range lines {
			b.WriteString(odfPara(l))
		}
		b.WriteString(`</draw:text-box></draw:frame></draw:page>`)
	}
	return odf("application/vnd.oasis.opendocument.presentation", `<office:presentation>`+b.String()+`</office:presentation>`)
}

// ODS is a spreadsheet of one table.
func ODS(rows [][]string) []byte {
	var b strings.Builder
	b.WriteString(`<table:table table:name="Sheet1">`)
	for _, row := range rows {
		b.WriteString(`<table:table-row>`)
		for _, c := range row {
			b.WriteString(`<table:table-cell office:value-type="string"><text:p>` + esc(c) + `</text:p></table:table-cell>`)
		}
		b.WriteString(`</table:table-row>`)
	}
	b.WriteString(`</table:table>`)
	return odf("application/vnd.oasis.opendocument.spreadsheet", `<office:spreadsheet>`+b.String()+`</office:spreadsheet>`)
}

// Paragraphs splits a page's text into its non-empty lines, trimmed.
func Paragraphs(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Groups cuts lines into groups of n (slides).
func Groups(lines []string, n int) [][]string {
	var out [][]string
	for len(lines) > 0 {
		k := min(n, len(lines))
		out = append(out, lines[:k])
		lines = lines[k:]
	}
	return out
}

// Rows makes table rows of lines: each line's words, at most cols of them.
func Rows(lines []string, cols int) [][]string {
	var out [][]string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) > cols {
			f = append(f[:cols-1], strings.Join(f[cols-1:], " "))
		}
		out = append(out, f)
	}
	return out
}
