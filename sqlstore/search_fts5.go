package sqlstore

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"docplat/docs"
)

// fts5 searches with SQLite FTS5's trigram tokenizer, which finds any
// substring of three or more characters (CJK included). Shorter terms,
// such as most two-character Chinese words, fall back to LIKE on the same
// table. The index is transactional, so it never holds orphans.
type fts5 struct{}

func (fts5) transactionalIndex() bool { return true }

const seqOf = `(SELECT seq FROM documents WHERE id = ?)`

func (fts5) index(tx *gorm.DB, d docs.Document, text string, replaceBody bool) error {
	tags := strings.Join(d.Tags, " ")
	if !replaceBody {
		return tx.Exec(`UPDATE document_search SET title = ?, tags = ?, description = ? WHERE rowid = `+seqOf,
			d.Title, tags, d.Description, d.ID).Error
	}
	if err := tx.Exec(`DELETE FROM document_search WHERE rowid = `+seqOf, d.ID).Error; err != nil {
		return err
	}
	return tx.Exec(`INSERT INTO document_search (rowid, title, tags, description, body) VALUES (`+seqOf+`, ?, ?, ?, ?)`,
		d.ID, d.Title, tags, d.Description, text).Error
}

func (fts5) unindex(tx *gorm.DB, id string) error {
	return tx.Exec(`DELETE FROM document_search WHERE rowid = `+seqOf, id).Error
}

// markTrashed has nothing to do: every FTS5 search joins documents with
// the read rule, which excludes trashed documents.
func (fts5) markTrashed(*gorm.DB, string) error { return nil }

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func (fts5) match(terms []string) (string, string, []any, string, []any) {
	var phrases []string
	var conds []string
	var args []any
	for _, t := range terms {
		if utf8.RuneCountInString(t) >= 3 {
			phrases = append(phrases, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
			continue
		}
		p := "%" + likeEscaper.Replace(t) + "%"
		conds = append(conds, `(document_search.title LIKE ? ESCAPE '\' OR document_search.tags LIKE ? ESCAPE '\' OR document_search.description LIKE ? ESCAPE '\' OR document_search.body LIKE ? ESCAPE '\')`)
		args = append(args, p, p, p, p)
	}
	score := "0"
	if len(phrases) > 0 {
		conds = append([]string{`document_search MATCH ?`}, conds...)
		args = append([]any{strings.Join(phrases, " AND ")}, args...)
		// bm25 is lower for better matches; title counts most.
		score = `-bm25(document_search, 10.0, 5.0, 2.0, 1.0)`
	}
	return `JOIN document_search ON document_search.rowid = d.seq`, strings.Join(conds, " AND "), args, score, nil
}

func (fts5) snippets(ctx context.Context, db *gorm.DB, ids []string, term string, width int) (map[string]string, error) {
	var rows []struct {
		ID   string
		Snip string
	}
	err := db.WithContext(ctx).Raw(`SELECT d.id, substr(s.body, max(1, instr(lower(s.body), ?) - ?), ?) AS snip
		FROM documents d JOIN document_search s ON s.rowid = d.seq WHERE d.id IN ?`, term, width/3, width, ids).Scan(&rows).Error
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Snip
	}
	return out, err
}

func (fts5) purgeOrphans(context.Context, *gorm.DB, time.Time) (int64, error) { return 0, nil }
