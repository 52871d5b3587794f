package docs

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"docplat/errs"
)

func wantInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if errs.CodeOf(err) != errs.BadRequest {
		t.Fatalf("%s: error = %v, want a bad_request error", what, err)
	}
}

func TestCheckFilename(t *testing.T) {
	cases := []struct {
		name     string
		filename string
		ok       bool
	}{
		{"plain name", "report.pdf", true},
		{"chinese name", "文档.txt", true},
		{"spaces and dashes", "Q3 report - final (2).pdf", true},
		{"dot inside the name", "archive.tar.gz", true},
		{"exactly 255 bytes", strings.Repeat("a", 251) + ".txt", true},
		{"empty", "", false},
		{"path traversal", "../../etc/passwd", false},
		{"slash", "a/b.txt", false},
		{"backslash", `a\b.txt`, false},
		{"dot dot", "..", false},
		{"nul byte", "x\x00y", false},
		{"newline", "x\ny", false},
		{"carriage return", "x\ry.txt", false},
		{"delete character", "x\x7fy.txt", false},
		{"256 bytes", strings.Repeat("a", 252) + ".txt", false},
		{"invalid utf-8", "x\xff.txt", false},
		{"right-to-left override", "evil\u202etxt.exe", false},
		{"left-to-right embedding", "a\u202ab.txt", false},
		{"first strong isolate", "a\u2068b.txt", false},
		{"pop directional isolate", "a\u2069b.txt", false},
		{"left-to-right mark", "a\u200eb.txt", false},
		{"right-to-left mark", "a\u200fb.txt", false},
		{"arabic letter mark", "a\u061cb.txt", false},
		{"line separator", "a\u2028b.txt", false},
		{"paragraph separator", "a\u2029b.txt", false},
		{"zero width space (Cf)", "a\u200bb.txt", false},
		{"byte order mark (Cf)", "\ufeffa.txt", false},
		{"arabic name", "تقرير.pdf", true},
		{"emoji", "notes 📚.md", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkFilename(tc.filename)
			if tc.ok {
				if err != nil {
					t.Fatalf("checkFilename(%q) = %v, want nil", tc.filename, err)
				}
				return
			}
			wantInvalid(t, fmt.Sprintf("checkFilename(%q)", tc.filename), err)
		})
	}
}

func TestNormalizeTags(t *testing.T) {
	twenty := make([]string, 20)
	for i := range twenty {
		twenty[i] = fmt.Sprintf("tag%d", i)
	}
	cases := []struct {
		name string
		in   []string
		want []string
	}{
		{"nil gives no tags", nil, []string{}},
		{"tags are trimmed", []string{"  go ", "\trust\n"}, []string{"go", "rust"}},
		{"empty and blank tags are dropped", []string{"", "  ", "go"}, []string{"go"}},
		{"case-insensitive duplicates keep the first spelling", []string{"Go", "go", " GO ", "rust"}, []string{"Go", "rust"}},
		{"chinese tags", []string{"文档", "文档", "管理"}, []string{"文档", "管理"}},
		{"20 tags", twenty, twenty},
		{"21 tags of which one duplicate", append(append([]string{}, twenty...), "TAG0"), twenty},
		{"64-rune tag", []string{strings.Repeat("文", 64)}, []string{strings.Repeat("文", 64)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := normalizeTags(tc.in)
			if err != nil {
				t.Fatalf("normalizeTags(%q) error = %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("normalizeTags(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeTagsRejects(t *testing.T) {
	twentyOne := make([]string, 21)
	for i := range twentyOne {
		twentyOne[i] = fmt.Sprintf("tag%d", i)
	}
	cases := []struct {
		name string
		in   []string
	}{
		{"21 distinct tags", twentyOne},
		{"65-rune tag", []string{strings.Repeat("文", 65)}},
		{"tag with a tab", []string{"a\tb"}},
		{"tag with a nul byte", []string{"a\x00b"}},
		{"tag with a comma", []string{"a,b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := normalizeTags(tc.in)
			if err == nil {
				t.Fatalf("normalizeTags(%q) = %q, want an error", tc.in, got)
			}
			wantInvalid(t, "normalizeTags", err)
		})
	}
}

// TestTextFieldsRejectInvalidUTF8 documents a bug: titles and tags arrive
// as raw multipart bytes (server/upload.go) and are not checked for valid
// UTF-8, unlike descriptions and file names.
func TestTextFieldsRejectInvalidUTF8(t *testing.T) {
	cases := []struct {
		name  string
		check func() error
	}{
		{"title", func() error { _, err := checkTitle("bad \xff title"); return err }},
		{"tag", func() error { _, err := normalizeTags([]string{"bad\xfftag"}); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantInvalid(t, tc.name, tc.check())
		})
	}
}

func TestCheckTitle(t *testing.T) {
	cases := []struct {
		name  string
		title string
		want  string
		ok    bool
	}{
		{"trimmed", "  Quarterly report ", "Quarterly report", true},
		{"200 runes", strings.Repeat("文", 200), strings.Repeat("文", 200), true},
		{"empty", "", "", false},
		{"blank", "   ", "", false},
		{"201 runes", strings.Repeat("文", 201), "", false},
		{"control character", "a\x07b", "", false},
		{"right-to-left override", "evil\u202etxt.exe", "", false},
		{"right-to-left isolate", "a\u2067b", "", false},
		{"line separator", "a\u2028b", "", false},
		{"paragraph separator", "a\u2029b", "", false},
		{"arabic letter mark", "a\u061cb", "", false},
		{"hebrew title", "דוח רבעוני", "דוח רבעוני", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkTitle(tc.title)
			if !tc.ok {
				wantInvalid(t, fmt.Sprintf("checkTitle(%q)", tc.title), err)
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("checkTitle(%q) = %q, %v; want %q, nil", tc.title, got, err, tc.want)
			}
		})
	}
}

func TestSplitTags(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"go", []string{"go"}},
		{"go, rust,,", []string{"go", " rust", "", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := SplitTags(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SplitTags(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
