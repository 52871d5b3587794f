package sqlstore

import (
	"context"
	"docplat/audit"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"

	"docplat/docs"
	"docplat/txn"
	"docplat/uploadlinks"
)

type uploadLinkRow struct {
	ID            string `gorm:"primaryKey"`
	TokenHash     string
	PasswordHash  *string
	CreatedBy     string
	Title         string
	Tags          string // JSON array
	CreatedAt     time.Time
	ExpiresAt     time.Time
	MaxFiles      int64
	MaxFileBytes  int64
	MaxTotalBytes int64
	FilesUsed     int64
	BytesUsed     int64
	RevokedAt     *time.Time
}

func (uploadLinkRow) TableName() string { return "upload_links" }

func (r uploadLinkRow) link() uploadlinks.Link {
	l := uploadlinks.Link{ID: r.ID, TokenHash: r.TokenHash, CreatedBy: r.CreatedBy, Title: r.Title,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), MaxFiles: r.MaxFiles, MaxFileBytes: r.MaxFileBytes,
		MaxTotalBytes: r.MaxTotalBytes, Files: r.FilesUsed, Bytes: r.BytesUsed}
	_ = json.Unmarshal([]byte(r.Tags), &l.Tags)
	if r.PasswordHash != nil {
		l.PasswordHash = *r.PasswordHash
	}
	if r.RevokedAt != nil {
		t := r.RevokedAt.UTC()
		l.RevokedAt = &t
	}
	return l
}

// UploadLinks stores upload links (uploadlinks.Store); their counts are
// kept by the documents participant (reserveUploadLink).
type UploadLinks struct{ db *DB }

// UploadLinks returns the upload link store.
func (db *DB) UploadLinks() *UploadLinks { return &UploadLinks{db: db} }

var _ uploadlinks.Store = (*UploadLinks)(nil)

func (s *UploadLinks) g(ctx context.Context) *gorm.DB { return s.db.gorm.WithContext(ctx) }

// CreateUploadLink implements uploadlinks.Store.
func (s *UploadLinks) CreateUploadLink(ctx context.Context, l uploadlinks.Link) error {
	tags, err := json.Marshal(l.Tags)
	if err != nil {
		return err
	}
	r := uploadLinkRow{ID: l.ID, TokenHash: l.TokenHash, CreatedBy: l.CreatedBy, Title: l.Title, Tags: string(tags),
		CreatedAt: l.CreatedAt.UTC(), ExpiresAt: l.ExpiresAt.UTC(), MaxFiles: l.MaxFiles, MaxFileBytes: l.MaxFileBytes, MaxTotalBytes: l.MaxTotalBytes}
	if l.PasswordHash != "" {
		r.PasswordHash = &l.PasswordHash
	}
	return s.g(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(r).Error; err != nil {
			return err
		}
		return audit.Record(tx, audit.OriginFrom(ctx).Entry(audit.UploadLinkCreate, l.ID, userDepartment(tx, l.CreatedBy),
			map[string]any{"title": l.Title, "expires_at": l.ExpiresAt.UTC(), "max_files": l.MaxFiles, "max_total_bytes": l.MaxTotalBytes}))
	})
}

// userDepartment is the department of user id ("" for none), for audit
// entries a dept_admin should see.
func userDepartment(tx *gorm.DB, id string) string {
	var dept string
	tx.Raw("SELECT COALESCE(department_id, '') FROM users WHERE id = ?", id).Scan(&dept)
	return dept
}

func (s *UploadLinks) one(ctx context.Context, where string, arg any) (uploadlinks.Link, error) {
	var r uploadLinkRow
	err := s.g(ctx).Where(where, arg).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return uploadlinks.Link{}, docs.ErrUploadLinkGone
	}
	return r.link(), err
}

// UploadLinkByTokenHash implements uploadlinks.Store.
func (s *UploadLinks) UploadLinkByTokenHash(ctx context.Context, hash string) (uploadlinks.Link, error) {
	return s.one(ctx, "token_hash = ?", hash)
}

// UploadLinkByID implements uploadlinks.Store.
func (s *UploadLinks) UploadLinkByID(ctx context.Context, id string) (uploadlinks.Link, error) {
	return s.one(ctx, "id = ?", id)
}

// UploadLinksOf implements uploadlinks.Store: newest first.
func (s *UploadLinks) UploadLinksOf(ctx context.Context, creator string) ([]uploadlinks.Link, error) {
	var rows []uploadLinkRow
	if err := s.g(ctx).Where("created_by = ?", creator).Order("created_at DESC, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]uploadlinks.Link, len(rows))
	for i, r := range rows {
		out[i] = r.link()
	}
	return out, nil
}

// RevokeUploadLink implements uploadlinks.Store.
// A revocation that changes the link is audited in its transaction.
func (s *UploadLinks) RevokeUploadLink(ctx context.Context, id string, at time.Time) error {
	return s.g(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE upload_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, at.UTC(), id)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		var creator string
		if err := tx.Raw("SELECT created_by FROM upload_links WHERE id = ?", id).Scan(&creator).Error; err != nil {
			return err
		}
		return audit.Record(tx, audit.OriginFrom(ctx).Entry(audit.UploadLinkRevoke, id, userDepartment(tx, creator), nil))
	})
}

// reserveUploadLink takes one file and ref.Size bytes of the link's limits
// in the documents participant's prepare, or votes no: one conditional
// UPDATE, exact under any concurrency.
func reserveUploadLink(tx *gorm.DB, ref docs.UploadLinkRef, now time.Time) error {
	res := tx.Exec(`UPDATE upload_links SET files_used = files_used + 1, bytes_used = bytes_used + ?
		WHERE id = ? AND revoked_at IS NULL AND expires_at > ? AND files_used < max_files AND bytes_used + ? <= max_total_bytes`,
		ref.Size, ref.ID, now, ref.Size)
	if res.Error != nil || res.RowsAffected == 1 {
		return res.Error
	}
	var r uploadLinkRow
	err := tx.Where("id = ?", ref.ID).Take(&r).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return &txn.VoteNo{Reason: docs.ReasonUploadLinkUsedUp}
	case err != nil:
		return err
	case r.RevokedAt == nil && r.ExpiresAt.After(now) && r.FilesUsed < r.MaxFiles:
		return &txn.VoteNo{Reason: docs.ReasonUploadLinkBytes}
	}
	return &txn.VoteNo{Reason: docs.ReasonUploadLinkUsedUp}
}

// releaseUploadLink gives back a reservation whose transaction aborted.
func releaseUploadLink(tx *gorm.DB, ref docs.UploadLinkRef) error {
	return tx.Exec(`UPDATE upload_links SET files_used = files_used - 1, bytes_used = bytes_used - ? WHERE id = ?`, ref.Size, ref.ID).Error
}
