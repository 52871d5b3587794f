package scenario

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// corpusFiles loads the shared corpus, or skips when this checkout has none
// beside it (DOCPLAT_CORPUS set and wrong fails).
func corpusFiles(t *testing.T, n int) []SeedFile {
	t.Helper()
	dir, err := FindCorpus(".")
	if err != nil {
		if os.Getenv("DOCPLAT_CORPUS") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	files, err := CorpusFiles(dir, n)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestCorpusQueriesComeFromTheirPageAndCoverEveryKind(t *testing.T) {
	files := corpusFiles(t, 2291)
	qs := CorpusQueries(files, 500, 1)
	if len(qs) != 500 {
		t.Fatalf("%d queries, want 500", len(qs))
	}
	kinds := map[string]int{}
	for _, q := range qs {
		kinds[q.Kind]++
		f := files[q.From]
		text := strings.ToLower(f.Title + "\n" + string(f.Content))
		for _, term := range strings.Fields(q.Q) {
			if !strings.Contains(text, term) {
				t.Errorf("%s query %q: %q is not in %s", q.Kind, q.Q, term, f.Name)
			}
		}
		switch q.Kind {
		case QueryZh2:
			if utf8.RuneCountInString(q.Q) != 2 {
				t.Errorf("two-character query %q", q.Q)
			}
		case QueryMultiTerm:
			if len(strings.Fields(q.Q)) != 2 {
				t.Errorf("multi-term query %q", q.Q)
			}
		case QuerySubstring:
			if len(q.Q) < 5 || !insideAWord(text, q.Q) {
				t.Errorf("substring query %q is not a fragment inside a word of %s", q.Q, f.Name)
			}
		}
	}
	for _, k := range []string{QueryZh2, QueryZhPhrase, QueryEnWord, QuerySubstring, QueryMultiTerm} {
		if kinds[k] < 50 {
			t.Errorf("%d queries of kind %s, want about 100", kinds[k], k)
		}
	}
	if again := CorpusQueries(files, 500, 1); again[7] != qs[7] || again[499] != qs[499] {
		t.Errorf("the same seed gave other queries")
	}
}

// insideAWord reports whether sub occurs in text with a letter on both sides.
func insideAWord(text, sub string) bool {
	isLetter := func(b byte) bool { return b >= 'a' && b <= 'z' }
	for i := 0; ; {
		j := strings.Index(text[i:], sub)
		if j < 0 {
			return false
		}
		at := i + j
		if at > 0 && at+len(sub) < len(text) && isLetter(text[at-1]) && isLetter(text[at+len(sub)]) {
			return true
		}
		i = at + 1
	}
}

func TestCorpusSearchWordsAreDistinctAndFromTheCorpus(t *testing.T) {
	corpusFiles(t, 1) // skips without a corpus
	dir, _ := FindCorpus(".")
	words, err := CorpusSearchWords(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(words) < 2000 {
		t.Fatalf("%d distinct searches, want thousands", len(words))
	}
	seen := map[string]bool{}
	for _, w := range words {
		if seen[w] {
			t.Fatalf("%q twice", w)
		}
		seen[w] = true
	}
	if _, err := CorpusSearchWords(t.TempDir(), 1); err == nil {
		t.Fatal("a directory without manifest.tsv gave no error")
	}
}
