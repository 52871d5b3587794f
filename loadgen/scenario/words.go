package scenario

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// defaultWords are search terms from the titles of the shared corpus (manual
// pages in English and Chinese): see words.txt.
//
//go:embed words.txt
var defaultWords string

// DefaultWords returns the built-in search terms.
func DefaultWords() []string {
	w, err := ParseWords(strings.NewReader(defaultWords))
	if err != nil {
		panic(err) // the embedded file is checked by TestDefaultWordsHaveBothLanguages
	}
	return w
}

// ParseWords reads one term per line, skipping blank lines and '#' comments.
// A term must be valid UTF-8 and at most 200 bytes (the API's limit on q).
func ParseWords(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		w := strings.TrimSpace(sc.Text())
		if w == "" || strings.HasPrefix(w, "#") {
			continue
		}
		if !utf8.ValidString(w) || len(w) > 200 || strings.ContainsAny(w, "\t") {
			return nil, fmt.Errorf("scenario: word list line %d: not a usable search term", line)
		}
		out = append(out, w)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("scenario: the word list is empty")
	}
	return out, nil
}
