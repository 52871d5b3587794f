package docs

import (
	"context"
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	maxQueryRunes = 200
	maxTerms      = 8
	maxPageSize   = 100
)

// ListInput is a listing or search request as the caller sent it.
type ListInput struct {
	Q            string
	Tag          string
	OwnerID      string
	DepartmentID string
	Sort         string
	Page         int
	PageSize     int
}

// ParseTerms splits a query into search terms. Operators and quotes carry no
// meaning: every term must occur (AND), as a substring of a word or of a run
// of CJK text.
func ParseTerms(q string) ([]string, error) {
	if !utf8.ValidString(q) || utf8.RuneCountInString(q) > maxQueryRunes {
		return nil, invalid("q must be valid text of at most %d characters", maxQueryRunes)
	}
	fields := strings.FieldsFunc(q, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`"'+-*()<>~@\`+"`", r)
	})
	var terms []string
	seen := map[string]bool{}
	for _, f := range fields {
		f = strings.ToLower(f)
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		terms = append(terms, f)
	}
	if len(terms) > maxTerms {
		return nil, invalid("q may have at most %d terms", maxTerms)
	}
	return terms, nil
}

// List returns the documents the actor may read that match in; bad input
// (the query, a filter, the page) is an errs.BadRequest error.
func (s *Service) List(ctx context.Context, actor Actor, in ListInput) ([]Document, int64, error) {
	terms, err := ParseTerms(in.Q)
	if err != nil {
		return nil, 0, err
	}
	q := Query{Terms: terms, Tag: strings.TrimSpace(in.Tag), OwnerID: in.OwnerID, DepartmentID: in.DepartmentID, Page: in.Page, Size: in.PageSize, At: s.now()}
	if q.Page, q.Size, err = checkPage(q.Page, q.Size); err != nil {
		return nil, 0, err
	}
	if len(q.Tag) > 4*maxTagRunes || len(q.OwnerID) > 64 || len(q.DepartmentID) > 64 {
		return nil, 0, invalid("tag, owner_id or department_id is too long")
	}
	switch Sort(in.Sort) {
	case "":
		q.Sort = SortCreated
		if len(terms) > 0 {
			q.Sort = SortRelevance
		}
	case SortRelevance, SortCreated, SortViews:
		q.Sort = Sort(in.Sort)
	default:
		return nil, 0, invalid("sort must be one of relevance, created_at, views")
	}
	if q.Sort == SortRelevance && len(terms) == 0 {
		q.Sort = SortCreated
	}
	// Searches and listings may run on a replica (MayReadReplica): a
	// listing is as fresh as the replicas' lag bound, except for a caller
	// who just wrote (WithRecentWriter), and its items are re-read
	// through the document cache's fence when the search cache answers.
	rctx, _ := MayReadReplica(ctx)
	items, total, err := s.repo.List(rctx, actor, q)
	if err != nil {
		return nil, 0, err
	}
	if len(terms) > 0 {
		for i := range items {
			items[i].Snippet = markTerms(items[i].Snippet, terms)
		}
	}
	return items, total, nil
}

// markTerms HTML-escapes text and wraps every case-insensitive occurrence of
// a term in <mark>..</mark>. Matching walks the original text rune by rune
// (case folding may change byte lengths, so positions in a lowered copy
// would not line up).
func markTerms(text string, terms []string) string {
	runes := make([][]rune, len(terms))
	for i, t := range terms {
		runes[i] = []rune(t)
	}
	src := []rune(text)
	var b strings.Builder
	b.Grow(len(text) + 32)
	for i := 0; i < len(src); {
		best := 0
		for _, t := range runes {
			if len(t) > best && hasFoldPrefix(src[i:], t) {
				best = len(t)
			}
		}
		if best > 0 {
			b.WriteString("<mark>")
			b.WriteString(html.EscapeString(string(src[i : i+best])))
			b.WriteString("</mark>")
			i += best
			continue
		}
		writeEscaped(&b, src[i])
		i++
	}
	return b.String()
}

// writeEscaped writes r as html.EscapeString would, without making a string
// of it: markTerms calls it for every character of every snippet.
func writeEscaped(b *strings.Builder, r rune) {
	switch r {
	case '<':
		b.WriteString("&lt;")
	case '>':
		b.WriteString("&gt;")
	case '&':
		b.WriteString("&amp;")
	case '\'':
		b.WriteString("&#39;")
	case '"':
		b.WriteString("&#34;")
	default:
		b.WriteRune(r)
	}
}

// hasFoldPrefix reports whether s starts with the lower-case term t, ignoring case.
func hasFoldPrefix(s, t []rune) bool {
	if len(t) == 0 || len(s) < len(t) {
		return false
	}
	for i, r := range t {
		if unicode.ToLower(s[i]) != r {
			return false
		}
	}
	return true
}

// checkPage defaults and bounds a listing's page and page size (0: the
// first page, 20 a page).
func checkPage(page, size int) (int, int, error) {
	if page == 0 {
		page = 1
	}
	if size == 0 {
		size = 20
	}
	if page < 1 || page > 100000 {
		return 0, 0, invalid("page must be between 1 and 100000")
	}
	if size < 1 || size > maxPageSize {
		return 0, 0, invalid("page_size must be between 1 and %d", maxPageSize)
	}
	return page, size, nil
}
