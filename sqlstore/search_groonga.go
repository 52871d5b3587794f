package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"docplat/docs"
)

// A relevance search on MariaDB is answered by Groonga (the engine inside
// Mroonga) through mroonga_command: it matches, filters by the permission
// columns copied into document_search, counts, sorts and cuts the page
// without handing a row to MariaDB's executor. The SQL form (MATCH ...
// AGAINST joined to documents, a COUNT(*) and a sorted SELECT) walked every
// match through the handler twice: 5.4 ms of CPU at p50 over the corpus
// queries against 1.9 ms here (BenchmarkSearchCorpus); what remains is
// mostly Groonga's phrase match itself.
//
// documents stays the truth. The page's documents are read from it with
// the caller's read rule; if one is missing (its transaction rolled back
// after the non-transactional index write), the query is answered by the
// exact SQL form instead, so a stale entry never shows, shortens a page or
// skews the total. What the check cannot see is an entry stricter than the
// truth: a visibility change whose transaction rolled back after its index
// write leaves the document out of searches that may see it, until its next
// change re-indexes it.

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

// groongaReadable is the script form of readable for an actor who holds no
// active grant (List answers the others by SQL), over document_search's
// copies of the permission columns. publish_at is whole Unix seconds
// there (0: none), as docs keeps it.
func groongaReadable(a docs.Actor, now time.Time) string {
	public := `visibility == "public"`
	// A trashed document is nobody's to read (readable's deleted_at IS NULL):
	// its entry's visibility copy is trashedVisibility.
	live := `visibility != "` + trashedVisibility + `" && `
	published := fmt.Sprintf("publish_at <= %d", now.Unix())
	owner := "owner_id == " + groongaString(a.UserID)
	switch {
	case a.Admin:
		return `visibility != "` + trashedVisibility + `"`
	case a.Anonymous():
		return "(" + public + " && " + published + ")"
	}
	var read, manages string
	switch {
	case a.DepartmentID == "":
		read, manages = "("+public+" || "+owner+")", owner
	case a.DeptAdmin:
		dept := "department_id == " + groongaString(a.DepartmentID)
		read, manages = "("+public+" || "+owner+" || "+dept+")", owner+" || "+dept
	default:
		read, manages = "("+public+" || "+owner+` || (department_id == `+groongaString(a.DepartmentID)+` && visibility == "department"))`, owner
	}
	if a.Reader {
		return live + "(" + read + " && " + published + ")"
	}
	return live + "(" + read + " && (" + published + " || " + manages + "))"
}

// groongaSelect is the select command of one relevance page: every term is a
// required phrase, as in mroongaQuery.
func groongaSelect(a docs.Actor, q docs.Query, now time.Time) string {
	phrases := make([]string, len(q.Terms))
	for i, t := range q.Terms {
		phrases[i] = groongaString(t)
	}
	var filters []string
	if f := groongaReadable(a, now); f != "" {
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
func (mroonga) rank(ctx context.Context, db *DB, a docs.Actor, q docs.Query, now time.Time) (groongaPage, error) {
	rows, err := db.searchStmts.query(ctx, db.sql, "SELECT mroonga_command(?)", groongaSelect(a, q, now))
	if err != nil {
		return groongaPage{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return groongaPage{}, err
		}
		return groongaPage{}, sql.ErrNoRows
	}
	var out sql.NullString
	if err := rows.Scan(&out); err != nil {
		return groongaPage{}, err
	}
	if !out.Valid {
		return groongaPage{}, fmt.Errorf("groonga select failed (mroonga_command returned NULL)")
	}
	return parseGroongaSelect(out.String)
}

// missingCommand logs once that mroonga_command is missing.
var missingCommand sync.Once

// ranker answers a relevance search from the full-text engine alone.
type ranker interface {
	rank(ctx context.Context, db *DB, a docs.Actor, q docs.Query, now time.Time) (groongaPage, error)
}

// rankedList is List for a relevance search the engine can rank by itself.
// ok is false when the caller must answer with the SQL form instead.
func (s *Documents) rankedList(ctx context.Context, r ranker, actor docs.Actor, scope docs.ReadScope, q docs.Query) (out []docs.Document, total int64, ok bool, err error) {
	page, err := r.rank(ctx, s.db, actor, q, scope.Now)
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) && me.Number == 1305 { // FUNCTION mroonga_command does not exist
		missingCommand.Do(func() {
			slog.Warn("search: mroonga_command is not installed (run Mroonga's install.sql); searches use the slower SQL form")
		})
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, err
	}
	if len(page.ids) == 0 {
		if page.total > 0 && q.Page == 1 {
			return nil, 0, false, nil // cannot happen unless the index is broken; let SQL answer
		}
		return []docs.Document{}, page.total, true, nil
	}
	rows, err := s.pageRows(ctx, scope, page.ids)
	if err != nil {
		return nil, 0, false, err
	}
	if len(rows) != len(page.ids) {
		s.db.staleIndex(q, len(page.ids)-len(rows))
		return nil, 0, false, nil
	}
	// The index's keys are normalized (upper case); ids compare without case
	// in MariaDB's collation, as here.
	longest := longestTerm(q.Terms)
	byKey := make(map[string]*pageRow, len(rows))
	windows := make(map[string]string, len(rows))
	for i := range rows {
		r := &rows[i]
		byKey[strings.ToUpper(r.doc.ID)] = r
		windows[r.doc.ID] = window(r.excerpt, longest)
	}
	out = make([]docs.Document, 0, len(rows))
	for _, k := range page.ids {
		r, found := byKey[strings.ToUpper(k)]
		if !found {
			s.db.staleIndex(q, 1)
			return nil, 0, false, nil
		}
		if r.doc.Tags == nil {
			r.doc.Tags = []string{}
		}
		out = append(out, r.doc)
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
func (db *DB) SearchFallbacks() int64 {
	n := db.searchFallbacks.Load()
	if db.replicas != nil {
		for _, r := range db.replicas.list {
			if rdb := r.db.Load(); rdb != nil {
				n += rdb.searchFallbacks.Load()
			}
		}
	}
	return n
}

// tagSeparator joins a document's tags in pageRows: a control character,
// which docs never accepts in a tag.
const tagSeparator = "\x1f"

// pageRow is a ranked page's document with its excerpt.
type pageRow struct {
	doc     docs.Document
	excerpt string
}

// pageRows reads the page's documents that actor may read, with their
// excerpts and tags, in one statement through database/sql: it runs on
// every search, and gorm's reflective scan cost more than the query. The
// id list is padded so that its prepared statements are few.
func (s *Documents) pageRows(ctx context.Context, scope docs.ReadScope, ids []string) ([]pageRow, error) {
	ids = padIDs(slices.Clip(ids))
	where, args := readable(scope)
	marks := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	all := make([]any, 0, len(ids)+len(args))
	for _, id := range ids {
		all = append(all, id)
	}
	all = append(all, args...)
	rows, err := s.db.searchStmts.query(ctx, s.db.sql, `SELECT d.id, d.title, d.description, d.visibility, d.owner_id, COALESCE(d.department_id, ''),
		d.filename, d.version, d.revision, d.size, d.mime, d.sha256, d.views, d.downloads, d.created_at, d.updated_at,
		d.text_state, d.publish_at, d.lecture_at, COALESCE(x.excerpt, ''), COALESCE((SELECT GROUP_CONCAT(t.tag ORDER BY t.tag SEPARATOR '`+tagSeparator+`') FROM document_tags t WHERE t.document_id = d.id), '')
		FROM documents d LEFT JOIN document_excerpts x ON x.document_id = d.id WHERE d.id IN (`+marks+`) AND `+where, all...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pageRow
	for rows.Next() {
		var r pageRow
		var vis, tags, textState string
		var publishAt, lectureAt sql.NullTime
		d := &r.doc
		if err := rows.Scan(&d.ID, &d.Title, &d.Description, &vis, &d.OwnerID, &d.DepartmentID, &d.Filename, &d.Version, &d.Revision,
			&d.Size, &d.Mime, &d.SHA256, &d.Views, &d.Downloads, &d.CreatedAt, &d.UpdatedAt, &textState, &publishAt, &lectureAt, &r.excerpt, &tags); err != nil {
			return nil, err
		}
		d.PublishAt, d.LectureAt = nullTime(publishAt), nullTime(lectureAt)
		d.Visibility, d.TextState = docs.Visibility(vis), docs.TextState(textState)
		d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
		if tags != "" {
			d.Tags = strings.Split(tags, tagSeparator)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// nullTime is t in UTC, or nil when NULL.
func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
