// Package testcorpus builds test documents from the real text of the shared
// corpus (../shared/corpus: Chinese and English manual pages): the same
// pages as GB18030, GBK and Big5 text, as Office Open XML and OpenDocument
// files written here with archive/zip, and as PDF and Office files made by
// LibreOffice. Generated files go to a temporary or cache directory, never
// into the repository. It is for tests and benchmarks only.
package testcorpus

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"docplat/loadgen/scenario"
)

// Page is one page of the corpus.
type Page struct {
	Name  string // file name, e.g. Button.3tk.txt
	Lang  string // zh or en
	Title string
	Text  string // UTF-8
}

// Pages answers the first n pages of lang ("zh", "en") in the corpus, or
// skips the test when this checkout has none beside it (fails in CI, and
// when DOCPLAT_CORPUS names a wrong directory).
func Pages(tb testing.TB, lang string, n int) []Page {
	tb.Helper()
	dir, err := scenario.FindCorpus(".")
	if err != nil {
		if os.Getenv("DOCPLAT_CORPUS") != "" || os.Getenv("CI") == "true" {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
	files, err := scenario.CorpusFiles(dir, 0)
	if err != nil {
		tb.Fatal(err)
	}
	var out []Page
	for _, f := range files {
		if !strings.HasSuffix(f.Tags, ","+lang) {
			continue
		}
		out = append(out, Page{Name: f.Name, Lang: lang, Title: f.Title, Text: string(f.Content)})
		if len(out) == n {
			break
		}
	}
	if len(out) < n {
		tb.Fatalf("the corpus has %d %s pages, want %d", len(out), lang, n)
	}
	return out
}

// GB18030 is text in GB18030 (every Unicode character has a code there).
func GB18030(tb testing.TB, text string) []byte {
	tb.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(text))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// GBK is text in GBK, less the lines holding a character GBK lacks.
func GBK(text string) []byte {
	return encodeLines(text, func(line string) ([]byte, error) {
		return simplifiedchinese.GBK.NewEncoder().Bytes([]byte(line))
	})
}

// Big5 is text in Big5, less the lines holding a character Big5 lacks.
// The corpus is in simplified characters, of which Big5 has the many that
// the two scripts share (的, 是, 在, 描述...): what stays is real text,
// made of those.
func Big5(text string) []byte {
	return encodeLines(text, func(line string) ([]byte, error) {
		return traditionalchinese.Big5.NewEncoder().Bytes([]byte(line))
	})
}

// EncodableText is the UTF-8 text Big5 (or GBK) keeps of text: what a
// decoder must give back.
func EncodableText(encoded []byte, big5 bool) string {
	dec := simplifiedchinese.GBK.NewDecoder()
	if big5 {
		dec = traditionalchinese.Big5.NewDecoder()
	}
	b, _ := dec.Bytes(encoded)
	return string(b)
}

func encodeLines(text string, enc func(string) ([]byte, error)) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		b, err := enc(sc.Text())
		if err != nil {
			continue
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// Words answers up to n distinct words of text to search for: runs of Han
// characters (two to four of them, as a reader would type them) and Latin
// words of five letters or more.
func Words(text string, n int) []string {
	seen := map[string]bool{}
	var out []string
	add := func(w string) {
		if !seen[w] && len(out) < n {
			seen[w] = true
			out = append(out, w)
		}
	}
	for _, f := range strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.Is(unicode.Han, r)
	}) {
		rs := []rune(f)
		switch {
		case unicode.Is(unicode.Han, rs[0]) && len(rs) >= 2:
			han := 0
			for han < len(rs) && han < 4 && unicode.Is(unicode.Han, rs[han]) {
				han++
			}
			if han >= 2 {
				add(string(rs[:han]))
			}
		case len(rs) >= 5 && isLatin(f):
			add(f)
		}
	}
	return out
}

func isLatin(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII || !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// CacheDir is a directory for generated files that outlives one test run
// (LibreOffice's conversions take seconds): the user's cache directory, or
// a test's temporary one when there is none.
func CacheDir(tb testing.TB, name string) string {
	tb.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		return tb.TempDir()
	}
	dir := filepath.Join(base, "docplat-testcorpus", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}
