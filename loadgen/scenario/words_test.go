package scenario

import (
	"strings"
	"testing"
	"unicode"
)

func TestDefaultWordsHaveBothLanguages(t *testing.T) {
	words := DefaultWords()
	var han, latin int
	for _, w := range words {
		switch {
		case strings.IndexFunc(w, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0:
			han++
		case strings.IndexFunc(w, unicode.IsLetter) >= 0:
			latin++
		}
	}
	if han < 10 || latin < 10 {
		t.Fatalf("%d Chinese and %d English terms; want at least 10 of each", han, latin)
	}
}

func TestParseWords(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		bad      bool
	}{
		{"comments and blanks", "# c\n\nalpha\n  文件  \n", []string{"alpha", "文件"}, false},
		{"empty", "# only a comment\n", nil, true},
		{"tab", "a\tb\n", nil, true},
		{"too long", strings.Repeat("x", 201) + "\n", nil, true},
	} {
		got, err := ParseWords(strings.NewReader(tc.in))
		if (err != nil) != tc.bad {
			t.Fatalf("%s: err = %v", tc.name, err)
		}
		if !tc.bad && strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Fatalf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
