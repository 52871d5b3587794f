package extract

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Every format yields the words of the text it was made from, Chinese and
// English, as valid UTF-8 within the limit.
func TestTextOfEveryFormatHoldsItsSourceWords(t *testing.T) {
	docs := corpusDocs(t, 3, true)
	seen := map[string]int{}
	for _, d := range docs {
		t.Run(d.format+"/"+d.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			got, err := Text(ctx, d.path, d.mime, 1<<20)
			if err != nil {
				t.Fatalf("Text: %v", err)
			}
			if !utf8.ValidString(got) {
				t.Error("the text is not valid UTF-8")
			}
			if len(d.words) < 5 {
				t.Fatalf("the source has only %d words to look for: %q", len(d.words), d.words)
			}
			if m := missing(got, d.words); len(m) > 0 {
				t.Errorf("%d of %d words missing: %q\ntext begins: %.300q", len(m), len(d.words), m, got)
			}
			if strings.Contains(got, "DELETEDWORD") {
				t.Error("deleted text (w:delText) was extracted")
			}
			seen[d.format]++
		})
	}
	t.Logf("documents per format: %v", seen)
}
