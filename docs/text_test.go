package docs

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestExtractText(t *testing.T) {
	const page = `<html><head><title>T</title><style>p { color: red }</style>
<SCRIPT type="text/javascript">alert("secret")</SCRIPT></head>
<body><p class="x">Fish &amp; Chips &lt;3</p><br/>caf&eacute; &amp;lt;</body></html>`
	cases := []struct {
		name  string
		mime  string
		in    string
		limit int64
		want  string
	}{
		{"plain text is kept", "text/plain; charset=utf-8", "hello world", 100, "hello world"},
		{"runs of blanks collapse, newlines stay", "text/plain; charset=utf-8", "a \t\t b\n\nc\r\n", 100, "a b\n\nc \n"},
		{"nul bytes are removed", "text/plain; charset=utf-8", "a\x00b", 100, "ab"},
		{"invalid utf-8 bytes are dropped", "text/plain; charset=utf-8", "ab\xffcd\xc3", 100, "abcd"},
		{"limit cuts the input", "text/plain; charset=utf-8", "hello world", 5, "hello"},
		{"limit inside a rune drops the partial rune", "text/plain; charset=utf-8", "文档", 4, "文"},
		{"markdown is text", "text/markdown; charset=utf-8", "# Title", 100, "# Title"},
		{"json is text", "application/json", `{"a": "b"}`, 100, `{"a": "b"}`},
		{"html tags, scripts and styles are removed, entities unescaped", "text/html; charset=utf-8", page, 1 << 10,
			"T Fish & Chips <3 caf&eacute; &lt;"},
		{"html markup is not unescaped twice", "text/html", "&amp;lt;b&amp;gt;", 100, "&lt;b&gt;"},
		{"pdf yields no text", "application/pdf", "%PDF-1.4 hello", 100, ""},
		{"png yields no text", "image/png", "\x89PNG", 100, ""},
		{"zip yields no text", "application/zip", "PK\x03\x04", 100, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := extractText(strings.NewReader(tc.in), tc.mime, tc.limit)
			if err != nil {
				t.Fatalf("extractText: %v", err)
			}
			if strings.HasPrefix(tc.mime, "text/html") {
				got = strings.Join(strings.Fields(got), " ")
			}
			if got != tc.want {
				t.Errorf("extractText(%q, %q, %d) = %q, want %q", tc.in, tc.mime, tc.limit, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("extractText returned invalid UTF-8 %q", got)
			}
			if int64(len(got)) > tc.limit {
				t.Errorf("extractText returned %d bytes, over the limit %d", len(got), tc.limit)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestExtractTextReportsReadErrors(t *testing.T) {
	cases := []struct {
		name    string
		mime    string
		wantErr bool
	}{
		{"text content is read and the error returned", "text/plain; charset=utf-8", true},
		{"binary content is never read", "application/pdf", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := extractText(failingReader{}, tc.mime, 100)
			if (err != nil) != tc.wantErr {
				t.Errorf("extractText error = %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}
