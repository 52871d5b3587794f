package extract

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

func TestTextOfTextTypes(t *testing.T) {
	const page = `<html><head><title>T</title><style>p { color: red }</style>
<SCRIPT type="text/javascript">alert("secret")</SCRIPT></head>
<body><p class="x">Fish &amp; Chips &lt;3</p><br/>caf&eacute; &amp;lt;</body></html>`
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("力学与热学")
	big5, _ := traditionalchinese.Big5.NewEncoder().String("力學與熱學")
	gbHTML, _ := simplifiedchinese.GBK.NewEncoder().String(`<html><meta charset="gbk"><p>力学</p></html>`)
	cases := []struct {
		name  string
		mime  string
		in    string
		limit int64
		want  string
	}{
		{"plain text is kept", "text/plain; charset=utf-8", "hello world", 100, "hello world"},
		{"runs of blanks collapse, newlines stay", "text/plain; charset=utf-8", "a \t\t b\n\nc\r\n", 100, "a b\n\nc \n"},
		{"runs of empty lines collapse to one", "text/plain; charset=utf-8", "a\n\n\n \n\nb", 100, "a\n\nb"},
		{"a utf-8 byte-order mark is removed", "text/plain; charset=utf-8", "\xef\xbb\xbfhello", 100, "hello"},
		{"nul bytes are removed", "text/plain; charset=utf-8", "a\x00b", 100, "ab"},
		{"invalid utf-8 bytes are dropped", "text/plain; charset=utf-8", "ab\xffcd\xc3", 100, "abcd"},
		{"limit cuts the input", "text/plain; charset=utf-8", "hello world", 5, "hello"},
		{"limit inside a rune drops the partial rune", "text/plain; charset=utf-8", "文档", 4, "文"},
		{"markdown is text", "text/markdown; charset=utf-8", "# Title", 100, "# Title"},
		{"json is text", "application/json", `{"a": "b"}`, 100, `{"a": "b"}`},
		{"html tags, scripts and styles are removed, entities unescaped", "text/html; charset=utf-8", page, 1 << 10,
			"T Fish & Chips <3 caf&eacute; &lt;"},
		{"html markup is not unescaped twice", "text/html", "&amp;lt;b&amp;gt;", 100, "&lt;b&gt;"},
		{"gb18030 labelled", "text/plain; charset=gb18030", gbk, 100, "力学与热学"},
		{"gbk labelled utf-8 (stored before labels told the truth)", "text/plain; charset=utf-8", gbk, 100, "力学与热学"},
		{"gbk cut inside a character", "text/plain; charset=gb18030", gbk, 7, "力学"},
		{"big5 labelled", "text/plain; charset=big5", big5, 100, "力學與熱學"},
		{"big5 unlabelled", "text/csv", big5, 100, "力學與熱學"},
		{"gbk html", "text/html; charset=gb18030", gbHTML, 100, "力学"},
		{"utf-16 as its byte-order mark labelled it", "text/plain; charset=utf-16le", "\xff\xfe\x9b\x52\x66\x5b", 100, "力学"},
		{"limit counts utf-8 bytes out, not bytes in", "text/plain; charset=gb18030", gbk, 6, "力学"},
		{"png yields no text", "image/png", "\x89PNG", 100, ""},
		{"zip yields no text", "application/zip", "PK\x03\x04", 100, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Text(context.Background(), writeFile(t, "f", []byte(tc.in)), tc.mime, tc.limit)
			if err != nil {
				t.Fatalf("Text: %v", err)
			}
			if strings.HasPrefix(tc.mime, "text/html") {
				got = strings.Join(strings.Fields(got), " ")
			}
			if got != tc.want {
				t.Errorf("Text(%q, %q, %d) = %q, want %q", tc.in, tc.mime, tc.limit, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Text returned invalid UTF-8 %q", got)
			}
			if int64(len(got)) > tc.limit {
				t.Errorf("Text returned %d bytes, over the limit %d", len(got), tc.limit)
			}
		})
	}
}

func TestTextOfAMissingFileIsAnError(t *testing.T) {
	for _, mime := range []string{"text/plain; charset=utf-8", mimeDOCX, "application/pdf"} {
		_, err := Text(context.Background(), "/nonexistent/file", mime, 100)
		if err == nil {
			t.Errorf("%s: no error", mime)
		}
		if mime == "text/plain; charset=utf-8" && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: error = %v, want fs.ErrNotExist", mime, err)
		}
	}
	// A type it does not read is not even opened.
	if s, err := Text(context.Background(), "/nonexistent/file", "image/png", 100); s != "" || err != nil {
		t.Errorf("png: %q, %v", s, err)
	}
}

func TestSupported(t *testing.T) {
	for mime, want := range map[string]bool{
		"text/plain; charset=gb18030": true, "text/html": true, "application/json": true, "application/pdf": true,
		mimeDOCX: true, mimePPTX: true, mimeXLSX: true, mimeODT: true, mimeODP: true, mimeODS: true,
		"image/png": false, "application/zip": false, "": false,
	} {
		if got := Supported(mime); got != want {
			t.Errorf("Supported(%q) = %v, want %v", mime, got, want)
		}
	}
}

// TestInline: only the types read in the caller are inline; PDF and
// Office files (tools in a sandbox) and types without text are not.
func TestInline(t *testing.T) {
	for mime, want := range map[string]bool{
		"text/plain; charset=gb18030": true, "text/markdown; charset=utf-8": true, "text/csv": true, "text/html": true,
		"application/json": true, "TEXT/PLAIN": true,
		"application/pdf": false, mimeDOCX: false, mimePPTX: false, mimeODS: false,
		"image/png": false, "application/zip": false, "": false,
	} {
		if got := Inline(mime); got != want {
			t.Errorf("Inline(%q) = %v, want %v", mime, got, want)
		}
	}
}
