package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"docplat/docs"
)

// trash marks d's row as in the trash (revision+1) and takes its search
// entry out of searches that do not join documents. Its versions, blobs
// and usage stay until the purge.
func (s *Documents) trash(tx *gorm.DB, d docs.Document, m docs.TrashMark) error {
	err := tx.Model(&documentRow{}).Where("id = ?", d.ID).Updates(map[string]any{
		"deleted_at": m.At.UTC(), "deleted_by": nullable(m.By), "purge_at": m.PurgeAt.UTC(), "revision": d.Revision + 1}).Error
	if err != nil {
		return err
	}
	// Last: Mroonga's write does not roll back with the transaction.
	return s.db.dialect.markTrashed(tx, d.ID)
}

// restore takes d's row out of the trash (revision+1) and indexes its
// metadata again (the body never left the index).
func (s *Documents) restore(tx *gorm.DB, d docs.Document) error {
	d.Revision++
	d.DeletedAt, d.DeletedBy, d.PurgeAt = nil, "", nil
	err := tx.Model(&documentRow{}).Where("id = ?", d.ID).Updates(map[string]any{
		"deleted_at": nil, "deleted_by": nil, "purge_at": nil, "revision": d.Revision}).Error
	if err != nil {
		return err
	}
	return s.db.dialect.index(tx, d, "", false)
}

// trashScope is the SQL form of docs.MayManageTrashed over trashed
// documents d, from the scope docs computed (the property test holds the
// two together).
func trashScope(s docs.TrashScope) (string, []any) {
	switch {
	case s.None:
		return "1=0", nil
	case s.All:
		return "d.deleted_at IS NOT NULL", nil
	case s.Department != "":
		return "d.deleted_at IS NOT NULL AND (d.owner_id = ? OR d.department_id = ?)", []any{s.UserID, s.Department}
	}
	return "d.deleted_at IS NOT NULL AND d.owner_id = ?", []any{s.UserID}
}

func (s *Documents) ListTrash(ctx context.Context, scope docs.TrashScope, ownerID string, page, size int) ([]docs.Document, int64, error) {
	where, args := trashScope(scope)
	if ownerID != "" {
		where += " AND d.owner_id = ?"
		args = append(args, ownerID)
	}
	db := s.g(ctx)
	var total int64
	if err := db.Raw("SELECT COUNT(*) FROM documents d WHERE "+where, args...).Scan(&total).Error; err != nil {
		return nil, 0, err
	}
	out := []docs.Document{}
	if total == 0 {
		return out, 0, nil
	}
	var rows []documentRow
	err := db.Raw("SELECT d.* FROM documents d WHERE "+where+" ORDER BY d.deleted_at DESC, d.id LIMIT ? OFFSET ?",
		append(args, size, (page-1)*size)...).Scan(&rows).Error
	if err != nil {
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
	for _, r := range rows {
		out = append(out, r.document(tags[r.ID]))
	}
	return out, total, nil
}

func (s *Documents) ExpiredTrash(ctx context.Context, now time.Time, limit int) ([]string, error) {
	var ids []string
	err := s.g(ctx).Raw(`SELECT id FROM documents WHERE purge_at IS NOT NULL AND purge_at <= ? ORDER BY purge_at, id LIMIT ?`,
		now.UTC(), limit).Scan(&ids).Error
	return ids, err
}
