package docs

import (
	"fmt"
	"html"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseTerms(t *testing.T) {
	cases := []struct {
		name string
		q    string
		want []string
	}{
		{"empty query has no terms", "", nil},
		{"blank query has no terms", " \t\n ", nil},
		{"english words are lower-cased", "Hello WORLD", []string{"hello", "world"}},
		{"chinese runs are kept whole", "高并发 文档管理", []string{"高并发", "文档管理"}},
		{"mixed chinese and english", "Go语言 并发", []string{"go语言", "并发"}},
		{"operators and quotes are stripped", `+foo -bar "baz"`, []string{"foo", "bar", "baz"}},
		{"other operator characters separate terms", "(foo*) ~bar @baz `qux` a\\b <c>", []string{"foo", "bar", "baz", "qux", "a", "b", "c"}},
		{"duplicates are removed after lower-casing", "Go go GO rust go", []string{"go", "rust"}},
		{"control characters separate terms", "foo\x00bar\x1fbaz", []string{"foo", "bar", "baz"}},
		{"sql metacharacters become harmless terms", `'; DROP TABLE documents; --`, []string{";", "drop", "table", "documents;"}},
		{"exactly 8 terms", "a b c d e f g h", []string{"a", "b", "c", "d", "e", "f", "g", "h"}},
		{"9 words that deduplicate to 8 terms", "a b c d e f g h A", []string{"a", "b", "c", "d", "e", "f", "g", "h"}},
		{"200 runes", strings.Repeat("文", 200), []string{strings.Repeat("文", 200)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTerms(tc.q)
			if err != nil {
				t.Fatalf("ParseTerms(%q) error = %v", tc.q, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseTerms(%q) = %q, want %q", tc.q, got, tc.want)
			}
		})
	}
}

func TestParseTermsRejects(t *testing.T) {
	cases := []struct {
		name string
		q    string
	}{
		{"201 runes", strings.Repeat("文", 201)},
		{"9 distinct terms", "a b c d e f g h i"},
		{"invalid utf-8", "foo \xff\xfe bar"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTerms(tc.q)
			wantInvalid(t, fmt.Sprintf("ParseTerms(%q) = %q", tc.q, got), err)
		})
	}
}

func TestMarkTerms(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		terms []string
		want  string
	}{
		{"empty text", "", []string{"x"}, ""},
		{"no terms only escapes", `<script>alert("x")</script>`, nil, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"},
		{"html is escaped around a match", "<script>cache</script>", []string{"cache"}, "&lt;script&gt;<mark>cache</mark>&lt;/script&gt;"},
		{"match keeps the original case", "Cache", []string{"cache"}, "<mark>Cache</mark>"},
		{"every occurrence is marked", "CACHE and cache", []string{"cache"}, "<mark>CACHE</mark> and <mark>cache</mark>"},
		{"chinese substring", "高并发文档管理系统", []string{"并发"}, "高<mark>并发</mark>文档管理系统"},
		{"several chinese terms", "高并发文档管理系统", []string{"文档", "系统"}, "高并发<mark>文档</mark>管理<mark>系统</mark>"},
		{"overlapping terms prefer the longest", "documents", []string{"doc", "document"}, "<mark>document</mark>s"},
		{"longest wins whatever the term order", "documents", []string{"document", "doc"}, "<mark>document</mark>s"},
		{"term containing an html special", "fish a&b <c>", []string{"a&b"}, "fish <mark>a&amp;b</mark> &lt;c&gt;"},
		{"term inside markup is marked and escaped", "<b>bold</b>", []string{"b"}, "&lt;<mark>b</mark>&gt;<mark>b</mark>old&lt;/<mark>b</mark>&gt;"},
		{"text whose lower-casing changes byte length still matches exactly", "İstanbul ankara", []string{"ankara"}, "İstanbul <mark>ankara</mark>"},
		{"no match leaves text escaped", "a < b", []string{"zzz"}, "a &lt; b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := markTerms(tc.text, tc.terms); got != tc.want {
				t.Errorf("markTerms(%q, %q) = %q, want %q", tc.text, tc.terms, got, tc.want)
			}
		})
	}
}

// TestMarkTermsKeepsRunesWhole documents a bug: when lower-casing shrinks
// some runes and grows others by the same number of bytes, markTerms matches
// on offsets of the lower-cased text that do not line up with the original.
func TestMarkTermsKeepsRunesWhole(t *testing.T) {
	// "İ" lower-cases to "i" (one byte less), "Ⱥ" to "ⱥ" (one byte more).
	text := "İzmir Ⱥ"
	got := markTerms(text, []string{"i"})
	if !utf8.ValidString(got) {
		t.Fatalf("markTerms(%q) = %q: not valid UTF-8", text, got)
	}
	plain := html.UnescapeString(strings.NewReplacer("<mark>", "", "</mark>", "").Replace(got))
	if plain != text {
		t.Errorf("markTerms(%q) without marks = %q, want the original text", text, plain)
	}
	if !strings.Contains(got, "zm<mark>i</mark>r") {
		t.Errorf("markTerms(%q) = %q, want the i of zmir marked", text, got)
	}
}

func TestMarkTermsEscapesAsHTMLEscapeString(t *testing.T) {
	// Text without a term comes back exactly as html.EscapeString has it.
	for _, text := range []string{`<a href="x">Tom & Jerry's</a>`, "高并发 <文档> & 'x' \"y\"", "", "plain"} {
		if got, want := markTerms(text, []string{"zzz"}), html.EscapeString(text); got != want {
			t.Errorf("markTerms(%q) = %q, want %q", text, got, want)
		}
	}
	if got, want := markTerms(`a<b & "b"`, []string{"b"}), `a&lt;<mark>b</mark> &amp; &#34;<mark>b</mark>&#34;`; got != want {
		t.Errorf("markTerms = %q, want %q", got, want)
	}
}
