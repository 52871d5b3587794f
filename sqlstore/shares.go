package sqlstore

import (
	"context"
	"docplat/audit"
	"errors"
	"time"

	"gorm.io/gorm"

	"docplat/shares"
)

type shareRow struct {
	ID           string `gorm:"primaryKey"`
	DocumentID   string
	TokenHash    string
	PasswordHash *string
	CreatedBy    string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	MaxDownloads *int64
	Downloads    int64
	RevokedAt    *time.Time
}

func (shareRow) TableName() string { return "share_links" }

func toShareRow(l shares.Link) shareRow {
	r := shareRow{ID: l.ID, DocumentID: l.DocumentID, TokenHash: l.TokenHash, CreatedBy: l.CreatedBy,
		CreatedAt: l.CreatedAt.UTC(), ExpiresAt: l.ExpiresAt.UTC(), Downloads: l.Downloads, RevokedAt: l.RevokedAt}
	if l.PasswordHash != "" {
		r.PasswordHash = &l.PasswordHash
	}
	if l.MaxDownloads > 0 {
		r.MaxDownloads = &l.MaxDownloads
	}
	return r
}

func (r shareRow) link() shares.Link {
	l := shares.Link{ID: r.ID, DocumentID: r.DocumentID, TokenHash: r.TokenHash, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), Downloads: r.Downloads}
	if r.PasswordHash != nil {
		l.PasswordHash = *r.PasswordHash
	}
	if r.MaxDownloads != nil {
		l.MaxDownloads = *r.MaxDownloads
	}
	if r.RevokedAt != nil {
		t := r.RevokedAt.UTC()
		l.RevokedAt = &t
	}
	return l
}

// ShareLinks stores share links (shares.Store).
type ShareLinks struct{ db *DB }

// ShareLinks returns the share link store.
func (db *DB) ShareLinks() *ShareLinks { return &ShareLinks{db: db} }

var _ shares.Store = (*ShareLinks)(nil)

func (s *ShareLinks) g(ctx context.Context) *gorm.DB { return s.db.gorm.WithContext(ctx) }

// CreateShare implements shares.Store.
// The link and its audit entry are written in one transaction.
func (s *ShareLinks) CreateShare(ctx context.Context, l shares.Link) error {
	err := s.g(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(toShareRow(l)).Error; err != nil {
			return err
		}
		return audit.Record(tx, audit.OriginFrom(ctx).Entry(audit.ShareCreate, l.ID, documentDepartment(tx, l.DocumentID),
			map[string]any{"document_id": l.DocumentID, "expires_at": l.ExpiresAt.UTC(), "password": l.HasPassword(), "max_downloads": l.MaxDownloads}))
	})
	if isForeignKey(err) {
		return shares.ErrNotFound // the document was deleted meanwhile
	}
	return err
}

// documentDepartment is the department of document id ("" when it has
// none or is gone), for audit entries a dept_admin should see.
func documentDepartment(tx *gorm.DB, id string) string {
	var dept string
	tx.Raw("SELECT COALESCE(department_id, '') FROM documents WHERE id = ?", id).Scan(&dept)
	return dept
}

func (s *ShareLinks) one(ctx context.Context, where string, arg any) (shares.Link, error) {
	var r shareRow
	err := s.g(ctx).Where(where, arg).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return shares.Link{}, shares.ErrNotFound
	}
	return r.link(), err
}

// ShareByTokenHash implements shares.Store.
func (s *ShareLinks) ShareByTokenHash(ctx context.Context, hash string) (shares.Link, error) {
	return s.one(ctx, "token_hash = ?", hash)
}

// ShareByID implements shares.Store.
func (s *ShareLinks) ShareByID(ctx context.Context, id string) (shares.Link, error) {
	return s.one(ctx, "id = ?", id)
}

// SharesOf implements shares.Store: newest first.
func (s *ShareLinks) SharesOf(ctx context.Context, documentID string) ([]shares.Link, error) {
	var rows []shareRow
	if err := s.g(ctx).Where("document_id = ?", documentID).Order("created_at DESC, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]shares.Link, len(rows))
	for i, r := range rows {
		out[i] = r.link()
	}
	return out, nil
}

// RevokeShare implements shares.Store.
// A revocation that changes the link is audited in its transaction; a
// repeated one changes nothing and records nothing.
func (s *ShareLinks) RevokeShare(ctx context.Context, id string, at time.Time) error {
	return s.g(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE share_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, at.UTC(), id)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		var doc string
		if err := tx.Raw("SELECT document_id FROM share_links WHERE id = ?", id).Scan(&doc).Error; err != nil {
			return err
		}
		return audit.Record(tx, audit.OriginFrom(ctx).Entry(audit.ShareRevoke, id, documentDepartment(tx, doc), map[string]any{"document_id": doc}))
	})
}

// CountShareDownload implements shares.Store: one conditional UPDATE, so
// concurrent downloads on any number of instances never pass the limit.
func (s *ShareLinks) CountShareDownload(ctx context.Context, id string, now time.Time) (bool, error) {
	res := s.g(ctx).Exec(`UPDATE share_links SET downloads = downloads + 1
		WHERE id = ? AND revoked_at IS NULL AND expires_at > ? AND (max_downloads IS NULL OR downloads < max_downloads)`, id, now.UTC())
	return res.RowsAffected == 1, res.Error
}
