package sqlstore

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// slowFoldIndex is foldIndex without its shortcuts: every character tried.
func slowFoldIndex(s, term string) int {
	for i := range s {
		if hasFoldPrefix(s[i:], term) {
			return i
		}
	}
	return 0
}

func TestFoldIndexShortcutsFindWhatTheFullScanFinds(t *testing.T) {
	texts := []string{
		"The KELVIN sign \u212a and İstanbul, Über alles, 高并发文档管理系统的设计, CACHE cache Cache",
		strings.Repeat("ab", 100) + "Needle" + strings.Repeat("文", 10) + "设计",
		"no match here at all",
	}
	terms := []string{"k", "kelvin", "i", "istanbul", "über", "cache", "needle", "设计", "文档", "1", "zzz", "e", "ü"}
	for _, s := range texts {
		for _, term := range terms {
			if got, want := foldIndex(s, term), slowFoldIndex(s, term); got != want {
				t.Errorf("foldIndex(%q, %q) = %d, want %d", s, term, got, want)
			}
		}
	}
}

func TestFitsRunes(t *testing.T) {
	for _, c := range []struct {
		s string
		n int
	}{{"", 0}, {"abc", 2}, {"abc", 3}, {"高并发", 2}, {"高并发", 3}, {"高并发文档", 4}, {strings.Repeat("文", 200), 160}, {strings.Repeat("a", 160), 160}} {
		if got, want := fitsRunes(c.s, c.n), utf8.RuneCountInString(c.s) <= c.n; got != want {
			t.Errorf("fitsRunes(%q, %d) = %v, want %v", c.s, c.n, got, want)
		}
	}
}
