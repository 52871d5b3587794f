package sqlstore

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"docplat/docs"
)

const snippetWidth = 160

// List runs on a replica when ctx allows it (docs.MayReadReplica).
func (s *Documents) List(ctx context.Context, actor docs.Actor, q docs.Query) ([]docs.Document, int64, error) {
	now := q.At.UTC()
	if q.At.IsZero() {
		now = time.Now().UTC()
	}
	return s.reader(ctx).listAt(ctx, actor, q, now)
}

// listAt is List as of now: grants and publication times are compared
// with it.
func (s *Documents) listAt(ctx context.Context, actor docs.Actor, q docs.Query, now time.Time) ([]docs.Document, int64, error) {
	scope := docs.ScopeOf(actor, now)
	if r, ok := s.db.dialect.(ranker); ok && !s.db.sqlSearchOnly && len(q.Terms) > 0 && q.Sort == docs.SortRelevance && q.Tag == "" {
		grants, err := s.holdsGrants(ctx, scope)
		if err != nil {
			return nil, 0, err
		}
		if !grants {
			out, total, done, err := s.rankedList(ctx, r, actor, scope, q)
			if err != nil || done {
				return out, total, err
			}
		}
	}
	where, args := readable(scope)
	conds := []string{where}
	join := ""
	score, scoreArgs := "0", []any(nil)
	if len(q.Terms) > 0 {
		var mwhere string
		var margs []any
		join, mwhere, margs, score, scoreArgs = s.db.dialect.match(q.Terms)
		conds = append(conds, mwhere)
		args = append(args, margs...)
	}
	if q.Tag != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM document_tags t WHERE t.document_id = d.id AND t.tag = ?)")
		args = append(args, q.Tag)
	}
	if q.OwnerID != "" {
		conds = append(conds, "d.owner_id = ?")
		args = append(args, q.OwnerID)
	}
	if q.DepartmentID != "" {
		conds = append(conds, "d.department_id = ?")
		args = append(args, q.DepartmentID)
	}
	from := " FROM documents d " + join + " WHERE " + strings.Join(conds, " AND ")

	db := s.g(ctx)
	var total int64
	if err := db.Raw("SELECT COUNT(*)"+from, args...).Scan(&total).Error; err != nil {
		return nil, 0, err
	}
	if total == 0 {
		return []docs.Document{}, 0, nil
	}
	order := " ORDER BY d.created_at DESC, d.id"
	switch q.Sort {
	case docs.SortRelevance:
		order = " ORDER BY score DESC, d.created_at DESC, d.id"
	case docs.SortViews:
		order = " ORDER BY d.views DESC, d.created_at DESC, d.id"
	}
	var rows []documentRow
	sel := "SELECT d.id, d.title, d.description, d.visibility, d.owner_id, d.department_id, d.filename, d.version, d.revision, d.size, d.mime, d.sha256, d.views, d.downloads, d.created_at, d.updated_at, d.text_state, d.publish_at, d.lecture_at, " + score + " AS score"
	pageArgs := append(append(append([]any{}, scoreArgs...), args...), q.Size, (q.Page-1)*q.Size)
	if err := db.Raw(sel+from+order+" LIMIT ? OFFSET ?", pageArgs...).Scan(&rows).Error; err != nil {
		return nil, 0, err
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	tags, err := tagsOf(db, ids)
	if err != nil {
		return nil, 0, err
	}
	out := make([]docs.Document, len(rows))
	for i, r := range rows {
		out[i] = r.document(tags[r.ID])
	}
	if len(q.Terms) > 0 && len(ids) > 0 {
		if err := s.fillSnippets(ctx, out, ids, q.Terms); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

func tagsOf(db *gorm.DB, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []tagRow
	if err := db.Where("document_id IN ?", ids).Order("tag").Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.DocumentID] = append(out[r.DocumentID], r.Tag)
	}
	return out, nil
}

// fillSnippets sets each result's Snippet to plain text around a match: a
// window of the body around the longest term if the body has it, else the
// description or the title.
func (s *Documents) fillSnippets(ctx context.Context, out []docs.Document, ids, terms []string) error {
	longest := longestTerm(terms)
	windows, err := s.db.dialect.snippets(ctx, s.db.gorm, ids, longest, snippetWidth)
	if err != nil {
		return err
	}
	chooseSnippets(out, windows, terms)
	return nil
}

func longestTerm(terms []string) string {
	longest := terms[0]
	for _, t := range terms[1:] {
		if len(t) > len(longest) {
			longest = t
		}
	}
	return longest
}

// chooseSnippets sets each result's Snippet to the first of its body window
// (windows, by id), a window of its description and its title that has a
// term, or the first that is not empty.
func chooseSnippets(out []docs.Document, windows map[string]string, terms []string) {
	longest := longestTerm(terms)
	for i := range out {
		d := &out[i]
		for _, cand := range []string{windows[d.ID], window(d.Description, longest), d.Title} {
			if containsFold(cand, terms) {
				d.Snippet = cand
				break
			}
		}
		if d.Snippet == "" {
			d.Snippet = firstNonEmpty(windows[d.ID], d.Description, d.Title)
		}
	}
}

func containsFold(s string, terms []string) bool {
	ls := strings.ToLower(s)
	for _, t := range terms {
		if strings.Contains(ls, t) {
			return true
		}
	}
	return false
}

// window cuts text to snippetWidth characters around the first occurrence
// of term (already lower case). It walks the string in place: it runs on
// every result of every search.
func window(text, term string) string {
	if fitsRunes(text, snippetWidth) {
		return text
	}
	at := foldIndex(text, term)
	// Back up snippetWidth/3 characters, then take snippetWidth.
	start := at
	for n := 0; n < snippetWidth/3 && start > 0; n++ {
		_, size := utf8.DecodeLastRuneInString(text[:start])
		start -= size
	}
	end := start
	for n := 0; n < snippetWidth && end < len(text); n++ {
		_, size := utf8.DecodeRuneInString(text[end:])
		end += size
	}
	return text[start:end]
}

// fitsRunes reports whether text has at most n characters, reading no
// further than n+1 of them (excerpts run to 2,000).
func fitsRunes(text string, n int) bool {
	if len(text) <= n {
		return true
	}
	for range text {
		if n == 0 {
			return false
		}
		n--
	}
	return true
}

// foldIndex is the byte offset of the first case-insensitive occurrence of
// the lower-case term in s, or 0. It compares rune by rune: lower-casing may
// change byte lengths, so offsets in a lowered copy would not fit s.
func foldIndex(s, term string) int {
	if term == "" {
		return 0
	}
	// Jump between the places where the term's first character can start
	// a match: its bytes when it has no case (CJK), an ASCII letter in
	// either case; else every character.
	first, _ := utf8.DecodeRuneInString(term)
	var next func(string) int
	switch {
	case unicode.ToUpper(first) == first && unicode.ToLower(first) == first && unicode.ToTitle(first) == first && !unicode.In(first, unicode.Latin, unicode.Greek, unicode.Cyrillic):
		f := string(first)
		next = func(s string) int { return strings.Index(s, f) }
	case first >= 'a' && first <= 'z' && first != 'k' && first != 'i':
		// (k and i also fold from the Kelvin sign and from İ.)
		lo, up := byte(first), byte(first)-'a'+'A'
		next = func(s string) int {
			i, j := strings.IndexByte(s, lo), strings.IndexByte(s, up)
			if i < 0 || (j >= 0 && j < i) {
				return j
			}
			return i
		}
	default:
		for i := range s {
			if hasFoldPrefix(s[i:], term) {
				return i
			}
		}
		return 0
	}
	for i := 0; i < len(s); {
		j := next(s[i:])
		if j < 0 {
			return 0
		}
		if hasFoldPrefix(s[i+j:], term) {
			return i + j
		}
		_, size := utf8.DecodeRuneInString(s[i+j:])
		i += j + size
	}
	return 0
}

func hasFoldPrefix(s, term string) bool {
	for _, t := range term {
		if s == "" {
			return false
		}
		r, size := utf8.DecodeRuneInString(s)
		if r != t && unicode.ToLower(r) != t {
			return false
		}
		s = s[size:]
	}
	return true
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
