package scenario

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// Query kinds of CorpusQueries, so that a search figure covers what users
// type: Chinese two-character words (the bigram index's smallest unit),
// longer Chinese phrases, English words, fragments inside a word, and two
// terms that must both occur.
const (
	QueryZh2       = "zh2"
	QueryZhPhrase  = "zh-phrase"
	QueryEnWord    = "en-word"
	QuerySubstring = "substring"
	QueryMultiTerm = "multi-term"
)

// CorpusQuery is one search and the seeded document it was taken from.
type CorpusQuery struct {
	Q    string
	Kind string
	From int // index in the files the query was made from
}

// CorpusQueries returns n searches taken from the titles and bodies of
// files (as CorpusFiles returns them), cycling through the kinds above and
// choosing documents with a generator seeded by seed. Files that offer
// nothing for a kind are skipped for it.
func CorpusQueries(files []SeedFile, n int, seed uint64) []CorpusQuery {
	if len(files) == 0 || n <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, 0xc0de))
	kinds := []string{QueryZh2, QueryEnWord, QuerySubstring, QueryMultiTerm, QueryZhPhrase}
	out := make([]CorpusQuery, 0, n)
	for tries := 0; len(out) < n && tries < 50*n; tries++ {
		kind := kinds[len(out)%len(kinds)]
		i := rng.IntN(len(files))
		if q := queryOf(rng, files[i], kind); q != "" {
			out = append(out, CorpusQuery{Q: q, Kind: kind, From: i})
		}
	}
	return out
}

// CorpusSearchWords returns distinct searches taken from every page of the
// corpus in dir (CorpusQueries), as a Source's word list.
func CorpusSearchWords(dir string, seed uint64) ([]string, error) {
	files, err := CorpusFiles(dir, 0)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, q := range CorpusQueries(files, 6000, seed) {
		if !seen[q.Q] {
			seen[q.Q] = true
			out = append(out, q.Q)
		}
	}
	return out, nil
}

// bodyPrefix bounds how much of a body query making reads.
const bodyPrefix = 4096

func queryOf(rng *rand.Rand, f SeedFile, kind string) string {
	body := string(f.Content)
	if len(body) > bodyPrefix {
		body = strings.ToValidUTF8(body[:bodyPrefix], "")
	}
	text := f.Title + "\n" + body
	pick := func(s []string) string {
		if len(s) == 0 {
			return ""
		}
		return s[rng.IntN(len(s))]
	}
	switch kind {
	case QueryZh2, QueryZhPhrase:
		runs := hanRuns(text)
		want := 2
		if kind == QueryZhPhrase {
			want = 3 + rng.IntN(2)
		}
		var cands []string
		for _, r := range runs {
			for j := 0; j+want <= len(r); j++ {
				cands = append(cands, string(r[j:j+want]))
			}
		}
		return pick(cands)
	case QueryEnWord:
		return pick(latinWords(f.Title, 4))
	case QuerySubstring:
		w := []rune(pick(latinWords(text, 7)))
		if len(w) == 0 {
			return ""
		}
		return string(w[1 : len(w)-1]) // inside the word, neither end
	case QueryMultiTerm:
		words := latinWords(text, 4)
		if han := hanRuns(f.Title); len(han) > 0 && len(han[0]) >= 2 {
			words = append(words, string(han[0][:2]))
		}
		a, b := pick(words), pick(words)
		if a == "" || a == b {
			return ""
		}
		return a + " " + b
	}
	return ""
}

// hanRuns returns the runs of Chinese characters in s.
func hanRuns(s string) [][]rune {
	var out [][]rune
	var cur []rune
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			cur = append(cur, r)
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// latinWords returns the distinct lower-case words of ASCII letters in s
// with at least minLen letters.
func latinWords(s string, minLen int) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsLetter(r) }) {
		w = strings.ToLower(w)
		if len(w) >= minLen && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// FindCorpus returns the corpus directory: $DOCPLAT_CORPUS, or shared/corpus
// beside the repository that holds dir or one of its parents (the project's
// layout: /work/shared/corpus next to /work/main).
func FindCorpus(dir string) (string, error) {
	if v := os.Getenv("DOCPLAT_CORPUS"); v != "" {
		if _, err := os.Stat(filepath.Join(v, "manifest.tsv")); err != nil {
			return "", fmt.Errorf("DOCPLAT_CORPUS: %w", err)
		}
		return v, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		c := filepath.Join(filepath.Dir(d), "shared", "corpus")
		if _, err := os.Stat(filepath.Join(c, "manifest.tsv")); err == nil {
			return c, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no shared/corpus/manifest.tsv beside %s or its parents (set DOCPLAT_CORPUS)", abs)
		}
	}
}
