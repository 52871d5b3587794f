package sqlstore

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"docplat/docs"
)

// mroonga searches with MariaDB's Mroonga engine: a TokenBigram full-text
// index finds CJK substrings and two-character words as well as English
// words. Mroonga tables are not transactional; every query joins documents,
// so an entry left by a rolled-back transaction is invisible until purged.
type mroonga struct{}

func (mroonga) transactionalIndex() bool { return false }

func (mroonga) index(tx *gorm.DB, d docs.Document, text string, replaceBody bool) error {
	now := time.Now().UTC()
	tags := strings.Join(d.Tags, " ")
	if replaceBody {
		if err := tx.Exec(`REPLACE INTO document_excerpts (document_id, excerpt) VALUES (?, ?)`, d.ID, excerptOf(text)).Error; err != nil {
			return err
		}
		return tx.Exec(`REPLACE INTO document_search (document_id, title, tags, description, body, indexed_at, visibility, owner_id, department_id, created_at, publish_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.Title, tags, d.Description, text, now, string(d.Visibility), d.OwnerID, d.DepartmentID, d.CreatedAt.UTC(), publishSeconds(d)).Error
	}
	return tx.Exec(`UPDATE document_search SET title = ?, tags = ?, description = ?, visibility = ?, publish_at = ?, indexed_at = ? WHERE document_id = ?`,
		d.Title, tags, d.Description, string(d.Visibility), publishSeconds(d), now, d.ID).Error
}

func (mroonga) unindex(tx *gorm.DB, id string) error {
	return tx.Exec(`DELETE FROM document_search WHERE document_id = ?`, id).Error
}

// trashedVisibility is the visibility copy of a trashed document's entry:
// groongaReadable filters it out for every caller, admins included, as
// readable's deleted_at IS NULL does in SQL.
const trashedVisibility = "trashed"

// markTrashed sets the entry's visibility copy to trashedVisibility; its
// restore's index call writes the document's visibility back. Mroonga is
// not transactional: if the trash rolls back after this, the document is
// missing from ranked searches until its next change (the stricter
// direction, as for a rolled-back visibility change); a restore rolled
// back after its index write leaves an entry that the page read's SQL
// re-check refuses.
func (mroonga) markTrashed(tx *gorm.DB, id string) error {
	return tx.Exec(`UPDATE document_search SET visibility = ?, indexed_at = ? WHERE document_id = ?`, trashedVisibility, time.Now().UTC(), id).Error
}

// publishSeconds is d's PublishAt as the index holds it: whole Unix
// seconds, 0 for none (docs keeps PublishAt in whole seconds).
func publishSeconds(d docs.Document) int64 {
	if d.PublishAt == nil {
		return 0
	}
	return d.PublishAt.Unix()
}

// mroongaQuery makes every term required and literal.
func mroongaQuery(terms []string) string {
	var b strings.Builder
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	for i, t := range terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(`+"`)
		b.WriteString(esc.Replace(t))
		b.WriteByte('"')
	}
	return b.String()
}

const mroongaMatch = `MATCH (s.title, s.tags, s.description, s.body) AGAINST (? IN BOOLEAN MODE)`

func (mroonga) match(terms []string) (string, string, []any, string, []any) {
	q := mroongaQuery(terms)
	return `JOIN document_search s ON s.document_id = d.id`, mroongaMatch, []any{q}, mroongaMatch, []any{q}
}

func (mroonga) snippets(ctx context.Context, db *gorm.DB, ids []string, term string, width int) (map[string]string, error) {
	var rows []struct {
		DocumentID string
		Snip       string
	}
	err := db.WithContext(ctx).Raw(`SELECT document_id, SUBSTRING(body, GREATEST(1, LOCATE(?, body) - ?), ?) AS snip
		FROM document_search WHERE document_id IN ?`, term, width/3, width, ids).Scan(&rows).Error
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.DocumentID] = r.Snip
	}
	return out, err
}

func (mroonga) purgeOrphans(ctx context.Context, db *gorm.DB, cutoff time.Time) (int64, error) {
	res := db.WithContext(ctx).Exec(`DELETE FROM document_search WHERE indexed_at < ? AND document_id NOT IN (SELECT id FROM documents)`, cutoff)
	return res.RowsAffected, res.Error
}

// backfillSearchFilters fills what migration 00011 added for documents
// indexed before it: the permission columns and creation time in the index,
// and the excerpts. Rows written since have them, so after the first start
// this finds nothing to do.
func backfillSearchFilters(ctx context.Context, db *gorm.DB) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO document_excerpts (document_id, excerpt)
			SELECT d.id, LEFT(s.body, ?) FROM documents d JOIN document_search s ON s.document_id = d.id
			WHERE NOT EXISTS (SELECT 1 FROM document_excerpts x WHERE x.document_id = d.id)`, excerptRunes).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE document_search s JOIN documents d ON d.id = s.document_id
			SET s.visibility = d.visibility, s.owner_id = d.owner_id, s.department_id = COALESCE(d.department_id, ''), s.created_at = d.created_at
			WHERE s.visibility = ''`).Error
	})
}

// excerptRunes bounds the body prefix that ranked results' snippets are cut
// from (document_excerpts): a term found only further in gets a snippet of
// the description or the title when they have it, else the excerpt's start
// (unmarked).
const excerptRunes = 2000

func excerptOf(text string) string {
	n := 0
	for i := range text {
		if n == excerptRunes {
			return text[:i]
		}
		n++
	}
	return text
}
