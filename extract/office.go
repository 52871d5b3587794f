package extract

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// zipLimits bound what one Office file may make the reader do: a zip bomb
// (many entries, a huge compression ratio, archives nested in archives)
// or XML nested to exhaust the stack are refused before they cost much.
type zipLimits struct {
	entries  int   // entries of one archive
	total    int64 // bytes decompressed from the file, nested archives included
	ratio    int64 // decompressed / compressed bytes of an entry (past minRatioBytes)
	depth    int   // archives deep: 1 is the file only, 2 also the documents embedded in it
	xmlDepth int   // elements nested in one XML part
}

// minRatioBytes: an entry smaller than this is never refused for its
// ratio (a short run of repeated markup compresses very well).
const minRatioBytes = 1 << 20

var defaultZipLimits = zipLimits{entries: 10000, total: 256 << 20, ratio: 200, depth: 2, xmlDepth: 256}

// Errors of the structural limits (the child's verdicts, in its stderr).
var (
	errEntries  = errors.New("too many zip entries")
	errTotal    = errors.New("too many bytes decompressed")
	errRatio    = errors.New("an entry's compression ratio is too high")
	errXMLDepth = errors.New("XML nested too deeply")
	errNoText   = errors.New("no part holding the text")
)

// officeFile writes the text of the Office file at name, of format (docx,
// pptx, xlsx, odt, odp, ods), to w.
func officeFile(name, format string, w io.Writer, lim zipLimits) (err error) {
	defer func() {
		// A reader's bug on a strange file fails that file, never more.
		if r := recover(); r != nil {
			err = fmt.Errorf("%s reader failed: %v", format, r)
		}
	}()
	zr, err := zip.OpenReader(name)
	if err != nil {
		return fmt.Errorf("not a readable %s (zip) file: %w", format, err)
	}
	defer zr.Close()
	o := &office{lim: lim, budget: lim.total, w: w}
	err = o.archive(&zr.Reader, format, 1)
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}

type office struct {
	lim    zipLimits
	budget int64 // decompressed bytes left
	w      io.Writer
}

var slideNum = regexp.MustCompile(`(\d+)\.xml$`)

// parts are an archive's entries holding format's text, in reading order.
func parts(zr *zip.Reader, format string) (text []*zip.File, shared *zip.File, embedded []*zip.File) {
	byNum := func(prefix string) []*zip.File {
		var fs []*zip.File
		for _, f := range zr.File {
			if strings.HasPrefix(f.Name, prefix) && !strings.Contains(f.Name[len(prefix):], "/") && strings.HasSuffix(f.Name, ".xml") {
				fs = append(fs, f)
			}
		}
		num := func(f *zip.File) int {
			m := slideNum.FindStringSubmatch(f.Name)
			if m == nil {
				return 0
			}
			n, _ := strconv.Atoi(m[1])
			return n
		}
		slices.SortFunc(fs, func(a, b *zip.File) int { return num(a) - num(b) })
		return fs
	}
	named := func(name string) *zip.File {
		for _, f := range zr.File {
			if f.Name == name {
				return f
			}
		}
		return nil
	}
	switch format {
	case "docx":
		if f := named("word/document.xml"); f != nil {
			text = append(text, f)
		}
		for _, p := range []string{"word/header", "word/footer"} {
			text = append(text, byNum(p)...)
		}
		for _, n := range []string{"word/footnotes.xml", "word/endnotes.xml", "word/comments.xml"} {
			if f := named(n); f != nil {
				text = append(text, f)
			}
		}
	case "pptx":
		text = append(byNum("ppt/slides/slide"), byNum("ppt/notesSlides/notesSlide")...)
	case "xlsx":
		shared = named("xl/sharedStrings.xml")
		text = byNum("xl/worksheets/sheet")
	default: // OpenDocument
		if f := named("content.xml"); f != nil {
			text = append(text, f)
		}
	}
	for _, f := range zr.File {
		switch strings.ToLower(path.Ext(f.Name)) {
		case ".docx", ".pptx", ".xlsx", ".odt", ".odp", ".ods":
			embedded = append(embedded, f)
		}
	}
	return text, shared, embedded
}

// archive writes the text of one archive, depth deep.
func (o *office) archive(zr *zip.Reader, format string, depth int) error {
	if len(zr.File) > o.lim.entries {
		return fmt.Errorf("%w: %d, at most %d", errEntries, len(zr.File), o.lim.entries)
	}
	text, shared, embedded := parts(zr, format)
	if len(text) == 0 {
		return fmt.Errorf("%s: %w", format, errNoText)
	}
	var strs []string
	if shared != nil {
		var err error
		if strs, err = o.sharedStrings(shared); err != nil {
			return err
		}
	}
	for _, f := range text {
		var err error
		switch format {
		case "xlsx":
			err = o.part(f, func(d *xml.Decoder) error { return o.sheet(d, strs) })
		default:
			err = o.part(f, func(d *xml.Decoder) error { return o.flow(d, vocabularies[format]) })
		}
		if err != nil {
			return err
		}
		if _, err := io.WriteString(o.w, "\n"); err != nil {
			return err
		}
	}
	// Documents embedded in this one (a spreadsheet in a report): their
	// text is the document's too, within the same budget; deeper ones are
	// left closed, which bounds archives nested in archives.
	if depth >= o.lim.depth {
		return nil
	}
	for _, f := range embedded {
		b, err := o.readAll(f)
		if err != nil {
			return err
		}
		inner, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			continue // an embedded object that is no zip: not ours to judge
		}
		if err := o.archive(inner, strings.TrimPrefix(strings.ToLower(path.Ext(f.Name)), "."), depth+1); err != nil && !errors.Is(err, errNoText) {
			return err
		}
	}
	return nil
}

// open opens an entry for reading within the limits: its declared ratio
// first, then what it really decompresses to (archive/zip refuses more
// than the declared size, and the budget refuses more than is left).
func (o *office) open(f *zip.File) (io.ReadCloser, error) {
	if f.UncompressedSize64 > minRatioBytes && f.UncompressedSize64 > uint64(o.lim.ratio)*max(f.CompressedSize64, 1) {
		return nil, fmt.Errorf("%s: %w: %d bytes from %d", f.Name, errRatio, f.UncompressedSize64, f.CompressedSize64)
	}
	if f.UncompressedSize64 > uint64(max(o.budget, 0)) {
		return nil, fmt.Errorf("%s: %w: %d bytes, %d left of %d", f.Name, errTotal, f.UncompressedSize64, o.budget, o.lim.total)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return &budgeted{rc: rc, o: o, name: f.Name}, nil
}

func (o *office) readAll(f *zip.File) ([]byte, error) {
	rc, err := o.open(f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// budgeted counts what an entry decompresses against the file's budget.
type budgeted struct {
	rc   io.ReadCloser
	o    *office
	name string
}

func (b *budgeted) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.o.budget -= int64(n)
	if b.o.budget < 0 {
		return n, fmt.Errorf("%s: %w (at most %d)", b.name, errTotal, b.o.lim.total)
	}
	return n, err
}

func (b *budgeted) Close() error { return b.rc.Close() }

// part parses one XML entry with fn.
func (o *office) part(f *zip.File, fn func(*xml.Decoder) error) error {
	rc, err := o.open(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	d.Strict = true
	if err := fn(d); err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, errEnough) {
			return err
		}
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	return nil
}

// token reads the next token, keeping count of depth.
func (o *office) token(d *xml.Decoder, depth *int) (xml.Token, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t.(type) {
	case xml.StartElement:
		*depth++
		if *depth > o.lim.xmlDepth {
			return nil, fmt.Errorf("%w: more than %d elements deep", errXMLDepth, o.lim.xmlDepth)
		}
	case xml.EndElement:
		*depth--
	}
	return t, nil
}

// vocabulary says which elements of a format's XML hold text. Elements are
// matched by local name: each format's namespaces do not reuse these names
// for anything else that holds text.
type vocabulary struct {
	text  map[string]bool   // character data inside is text
	block map[string]bool   // ends a line (paragraphs, cells)
	gap   map[string]string // stands for a character (tab, break)
	skip  map[string]bool   // holds no text to index (deleted runs, field codes)
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	wordML    = vocabulary{text: set("t"), block: set("p", "tr"), gap: map[string]string{"tab": "\t", "br": "\n", "cr": "\n"}, skip: set("delText", "instrText", "rPh")}
	drawingML = vocabulary{text: set("t"), block: set("p"), gap: map[string]string{"br": "\n"}}
	openDoc   = vocabulary{text: set("p", "h"), block: set("p", "h"), gap: map[string]string{"s": " ", "tab": "\t", "line-break": "\n"}, skip: set("tracked-changes")}

	vocabularies = map[string]vocabulary{"docx": wordML, "pptx": drawingML, "odt": openDoc, "odp": openDoc, "ods": openDoc}
)

// flow writes the text of a document part in the order it is stored.
func (o *office) flow(d *xml.Decoder, v vocabulary) error {
	depth, inText, skipping := 0, 0, 0
	for {
		t, err := o.token(d, &depth)
		if err != nil {
			return err
		}
		switch e := t.(type) {
		case xml.StartElement:
			switch {
			case v.skip[e.Name.Local]:
				skipping++
			case v.text[e.Name.Local]:
				inText++
			}
			if g, ok := v.gap[e.Name.Local]; ok && skipping == 0 {
				if _, err := io.WriteString(o.w, g); err != nil {
					return err
				}
			}
		case xml.EndElement:
			switch {
			case v.skip[e.Name.Local]:
				skipping--
			case v.text[e.Name.Local]:
				inText--
			}
			if v.block[e.Name.Local] && skipping == 0 {
				if _, err := io.WriteString(o.w, "\n"); err != nil {
					return err
				}
			}
		case xml.CharData:
			if inText > 0 && skipping == 0 {
				if _, err := o.w.Write(e); err != nil {
					return err
				}
			}
		}
	}
}

// sharedStrings reads an xlsx's table of strings, which cells name by
// index. Its size is bounded by the budget it is read within.
func (o *office) sharedStrings(f *zip.File) ([]string, error) {
	var strs []string
	var cur strings.Builder
	err := o.part(f, func(d *xml.Decoder) error {
		depth, inText, skipping := 0, 0, 0
		for {
			t, err := o.token(d, &depth)
			if err != nil {
				return err
			}
			switch e := t.(type) {
			case xml.StartElement:
				switch e.Name.Local {
				case "t":
					inText++
				case "rPh": // phonetic guides repeat the text in kana
					skipping++
				}
			case xml.EndElement:
				switch e.Name.Local {
				case "t":
					inText--
				case "rPh":
					skipping--
				case "si":
					strs = append(strs, cur.String())
					cur.Reset()
				}
			case xml.CharData:
				if inText > 0 && skipping == 0 {
					cur.Write(e)
				}
			}
		}
	})
	return strs, err
}

// sheet writes a worksheet's cells, a tab between cells and a line per
// row: shared strings by their index, inline strings, numbers as written.
func (o *office) sheet(d *xml.Decoder, strs []string) error {
	depth := 0
	var cellType string
	inValue, inInline := false, 0
	var val bytes.Buffer
	for {
		t, err := o.token(d, &depth)
		if err != nil {
			return err
		}
		switch e := t.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "c":
				cellType = ""
				for _, a := range e.Attr {
					if a.Name.Local == "t" {
						cellType = a.Value
					}
				}
			case "v":
				inValue = true
				val.Reset()
			case "t":
				inInline++
			}
		case xml.EndElement:
			var out string
			switch e.Name.Local {
			case "v":
				inValue = false
				out = val.String()
				if cellType == "s" {
					i, err := strconv.Atoi(strings.TrimSpace(out))
					if err != nil || i < 0 || i >= len(strs) {
						out = "" // a dangling index: no text, no failure
					} else {
						out = strs[i]
					}
				}
				out += "\t"
			case "t":
				inInline--
			case "is":
				out = "\t"
			case "row":
				out = "\n"
			}
			if out != "" {
				if _, err := io.WriteString(o.w, out); err != nil {
					return err
				}
			}
		case xml.CharData:
			switch {
			case inValue:
				val.Write(e)
			case inInline > 0:
				if _, err := o.w.Write(e); err != nil {
					return err
				}
			}
		}
	}
}
