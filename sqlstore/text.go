package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"docplat/docs"
)

// maxTextError bounds the failure reason kept (the column's size).
const maxTextError = 500

// SetText records an extraction's outcome under the document's row lock,
// fenced: only the content it was extracted from, still current and still
// pending, takes it (docs.ErrTextStale otherwise). The revision stays: the
// text settling is no change a client holds an ETag or read token against
// (the caches tell it apart by docs' fence). The body goes into the
// search index (on MariaDB Mroonga's writes do not roll back with the
// transaction; a rolled-back outcome leaves the text pending, so the
// sweeper has it extracted again and the index rewritten).
func (s *Documents) SetText(ctx context.Context, id string, r docs.TextResult) (docs.Document, error) {
	var out docs.Document
	err := s.g(ctx).Transaction(func(tx *gorm.DB) error {
		d, err := s.get(tx, id, true)
		if err != nil {
			return err
		}
		if !r.Current(d) {
			return docs.ErrTextStale
		}
		d.TextState = r.State
		reason := r.Error
		if len(reason) > maxTextError {
			reason = reason[:maxTextError]
		}
		if err := tx.Model(&documentRow{}).Where("id = ?", id).Updates(map[string]any{
			"text_state": string(r.State), "text_state_at": time.Now().UTC(), "text_error": reason}).Error; err != nil {
			return err
		}
		if r.State == docs.TextReady {
			if err := s.db.dialect.index(tx, d, r.Text, true); err != nil {
				return err
			}
		}
		out = d
		return nil
	})
	return out, err
}

// ClaimPendingText claims documents pending since before `before`: each
// is taken by a conditional update of its text_state_at, so that of two
// instances sweeping at once only one enqueues it.
func (s *Documents) ClaimPendingText(ctx context.Context, before, now time.Time, limit int) ([]docs.Document, error) {
	var rows []documentRow
	err := s.g(ctx).Where("text_state = ? AND (text_state_at IS NULL OR text_state_at < ?)", string(docs.TextPending), before).
		Order("text_state_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]docs.Document, 0, len(rows))
	for _, r := range rows {
		res := s.g(ctx).Model(&documentRow{}).
			Where("id = ? AND version = ? AND text_state = ? AND (text_state_at IS NULL OR text_state_at < ?)", r.ID, r.Version, string(docs.TextPending), before).
			Update("text_state_at", now)
		if res.Error != nil {
			return out, res.Error
		}
		if res.RowsAffected == 1 {
			out = append(out, r.document(nil))
		}
	}
	return out, nil
}

// SetPreviewState records a preview job's outcome on the row, if sha is
// still its current content and its previews still pending (a late job
// of an older content changes nothing).
func (s *Documents) SetPreviewState(ctx context.Context, id, sha string, state docs.PreviewState, reason string) error {
	if len(reason) > maxTextError {
		reason = reason[:maxTextError]
	}
	return s.g(ctx).Model(&documentRow{}).
		Where("id = ? AND sha256 = ? AND preview_state = ?", id, sha, string(docs.PreviewPending)).
		Updates(map[string]any{"preview_state": string(state), "preview_state_at": time.Now().UTC(), "preview_error": reason}).Error
}

// ClaimPendingPreviews claims documents whose previews have been pending
// since before `before`, as ClaimPendingText does their text.
func (s *Documents) ClaimPendingPreviews(ctx context.Context, before, now time.Time, limit int) ([]docs.Document, error) {
	var rows []documentRow
	err := s.g(ctx).Where("preview_state = ? AND (preview_state_at IS NULL OR preview_state_at < ?)", string(docs.PreviewPending), before).
		Order("preview_state_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]docs.Document, 0, len(rows))
	for _, r := range rows {
		res := s.g(ctx).Model(&documentRow{}).
			Where("id = ? AND sha256 = ? AND preview_state = ? AND (preview_state_at IS NULL OR preview_state_at < ?)", r.ID, r.SHA256, string(docs.PreviewPending), before).
			Update("preview_state_at", now)
		if res.Error != nil {
			return out, res.Error
		}
		if res.RowsAffected == 1 {
			out = append(out, r.document(nil))
		}
	}
	return out, nil
}
