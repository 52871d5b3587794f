package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"gorm.io/gorm"

	"docplat/docs"
)

// A relevance search on MariaDB is answered by Groonga (the engine inside
// Mroonga) through mroonga_command: it matches, filters by the permission
// columns copied into document_search, counts, sorts and cuts the page
// without handing a row to MariaDB's executor. The SQL form (MATCH ...
// AGAINST joined to documents, a COUNT(*) and a sorted SELECT) walked every
// match through the handler twice: about 16 ms of server CPU for a common
// word over the 2,291 corpus pages, against about 0.2 ms here.
//
// documents stays the truth. The page's documents are read from it with
// the caller's read rule; if one is missing (its transaction rolled back
// after the non-transactional index write, or a permission change did), the
// query is answered by the exact SQL form instead, so a stale index entry
// never shows, shortens a page or hides a document on it.

// groongaMatchColumns ranks a title match above tags, description and body, as
// FTS5's bm25 weights do in the embedded mode.
const groongaMatchColumns = "title * 10 || tags * 5 || description * 2 || body"

// groongaString quotes s as a string literal of Groonga's query and script
// syntax.
func groongaString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// groongaArg quotes s as one argument of a Groonga command line.
func groongaArg(s string) string {
	return `'` + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + `'`
}

// groongaReadable is the script form of readable(a), over document_search's
// copies of the permission columns ("" when nothing filters).
func groongaReadable(a docs.Actor) string {
	public := `visibility == "public"`
	switch {
	case a.Admin:
		return ""
	case a.Anonymous():
		return public
	case a.DepartmentID == "":
		return "(" + public + " || owner_id == " + groongaString(a.UserID) + ")"
	case a.DeptAdmin:
		return "(" + public + " || owner_id == " + groongaString(a.UserID) + " || department_id == " + groongaString(a.DepartmentID) + ")"
	}
	return "(" + public + " || owner_id == " + groongaString(a.UserID) +
		` || (department_id == ` + groongaString(a.DepartmentID) + ` && visibility == "department"))`
}

// groongaSelect is the select command of one relevance page: every term is a
// required phrase, as in mroongaQuery.
func groongaSelect(a docs.Actor, q docs.Query) string {
	phrases := make([]string, len(q.Terms))
	for i, t := range q.Terms {
		phrases[i] = groongaString(t)
	}
	var filters []string
	if f := groongaReadable(a); f != "" {
		filters = append(filters, f)
	}
	if q.OwnerID != "" {
		filters = append(filters, "owner_id == "+groongaString(q.OwnerID))
	}
	if q.DepartmentID != "" {
		filters = append(filters, "department_id == "+groongaString(q.DepartmentID))
	}
	var b strings.Builder
	b.WriteString("select --table document_search --match_columns ")
	b.WriteString(groongaArg(groongaMatchColumns))
	b.WriteString(" --query ")
	b.WriteString(groongaArg(strings.Join(phrases, " ")))
	if len(filters) > 0 {
		b.WriteString(" --filter ")
		b.WriteString(groongaArg(strings.Join(filters, " && ")))
	}
	fmt.Fprintf(&b, " --sortby '-_score,-created_at,_key' --offset %d --limit %d --output_columns _key",
		(q.Page-1)*q.Size, q.Size)
	return b.String()
}

// groongaPage is a page of ranked document ids (as Groonga spells them)
// and the number of matches.
type groongaPage struct {
	ids   []string
	total int64
}

// parseGroongaSelect reads select's answer: [[[total], [columns], [key]...]].
func parseGroongaSelect(out string) (groongaPage, error) {
	var sets [][]json.RawMessage
	if err := json.Unmarshal([]byte(out), &sets); err != nil || len(sets) == 0 || len(sets[0]) < 2 {
		return groongaPage{}, fmt.Errorf("groonga select: unexpected answer %.200q", out)
	}
	set := sets[0]
	var count []int64
	if err := json.Unmarshal(set[0], &count); err != nil || len(count) != 1 {
		return groongaPage{}, fmt.Errorf("groonga select: unexpected count %.100q", set[0])
	}
	p := groongaPage{total: count[0]}
	for _, raw := range set[2:] {
		var row []string
		if err := json.Unmarshal(raw, &row); err != nil || len(row) != 1 {
			return groongaPage{}, fmt.Errorf("groonga select: unexpected row %.100q", raw)
		}
		p.ids = append(p.ids, row[0])
	}
	return p, nil
}

// rank runs the select: mroonga_command answers NULL (with a warning) when
// Groonga refuses the command.
func (mroonga) rank(ctx context.Context, db *gorm.DB, a docs.Actor, q docs.Query) (groongaPage, error) {
	var out *string
	if err := db.WithContext(ctx).Raw("SELECT mroonga_command(?)", groongaSelect(a, q)).Scan(&out).Error; err != nil {
		return groongaPage{}, err
	}
	if out == nil {
		return groongaPage{}, fmt.Errorf("groonga select failed (mroonga_command returned NULL)")
	}
	return parseGroongaSelect(*out)
}

// ranker answers a relevance search from the full-text engine alone.
type ranker interface {
	rank(ctx context.Context, db *gorm.DB, a docs.Actor, q docs.Query) (groongaPage, error)
}

// rankedList is List for a relevance search the engine can rank by itself.
// ok is false when the caller must answer with the SQL form instead.
func (s *Documents) rankedList(ctx context.Context, r ranker, actor docs.Actor, q docs.Query) (out []docs.Document, total int64, ok bool, err error) {
	page, err := r.rank(ctx, s.db.gorm, actor, q)
	if err != nil {
		return nil, 0, false, err
	}
	if len(page.ids) == 0 {
		if page.total > 0 && q.Page == 1 {
			return nil, 0, false, nil // cannot happen unless the index is broken; let SQL answer
		}
		return []docs.Document{}, page.total, true, nil
	}
	where, args := readable(actor)
	db := s.g(ctx)
	var rows []struct {
		Doc     documentRow `gorm:"embedded"` // named: gorm cannot set an unexported embedded field
		Excerpt string
	}
	if err := db.Raw(`SELECT d.id, d.title, d.description, d.visibility, d.owner_id, d.department_id, d.filename, d.version, d.revision,
		d.size, d.mime, d.sha256, d.views, d.downloads, d.created_at, d.updated_at, COALESCE(x.excerpt, '') AS excerpt
		FROM documents d LEFT JOIN document_excerpts x ON x.document_id = d.id WHERE d.id IN ? AND `+where,
		append([]any{page.ids}, args...)...).Scan(&rows).Error; err != nil {
		return nil, 0, false, err
	}
	if len(rows) != len(page.ids) {
		s.db.staleIndex(q, len(page.ids)-len(rows))
		return nil, 0, false, nil
	}
	// The index's keys are normalized (upper case); ids compare without case
	// in MariaDB's collation, as here.
	longest := longestTerm(q.Terms)
	byKey := make(map[string]documentRow, len(rows))
	windows := make(map[string]string, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		byKey[strings.ToUpper(r.Doc.ID)] = r.Doc
		ids[i] = r.Doc.ID
		windows[r.Doc.ID] = window(r.Excerpt, longest)
	}
	tags, err := tagsOf(db, ids)
	if err != nil {
		return nil, 0, false, err
	}
	out = make([]docs.Document, 0, len(rows))
	for _, k := range page.ids {
		r, found := byKey[strings.ToUpper(k)]
		if !found {
			s.db.staleIndex(q, 1)
			return nil, 0, false, nil
		}
		out = append(out, r.document(tags[r.ID]))
	}
	chooseSnippets(out, windows, q.Terms)
	return out, page.total, true, nil
}

// staleIndex notes a relevance page answered by SQL because of stale index
// entries; the garbage collector purges orphans, so this should stay rare.
func (db *DB) staleIndex(q docs.Query, n int) {
	db.searchFallbacks.Add(1)
	slog.Info("search: stale index entries on a ranked page; answered by SQL", "entries", n, "terms", len(q.Terms))
}

// SearchFallbacks counts the relevance searches the index could not answer
// alone because of stale entries (answered by SQL instead).
func (db *DB) SearchFallbacks() int64 { return db.searchFallbacks.Load() }
