package sqlstore

import (
	"strings"
	"testing"
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
