package sqlstore

import (
	"context"
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
func (s *ShareLinks) CreateShare(ctx context.Context, l shares.Link) error {
	err := s.g(ctx).Create(toShareRow(l)).Error
	if isForeignKey(err) {
		return shares.ErrNotFound // the document was deleted meanwhile
	}
	return err
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
func (s *ShareLinks) RevokeShare(ctx context.Context, id string, at time.Time) error {
	return s.g(ctx).Exec(`UPDATE share_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, at.UTC(), id).Error
}

// CountShareDownload implements shares.Store: one conditional UPDATE, so
// concurrent downloads on any number of instances never pass the limit.
func (s *ShareLinks) CountShareDownload(ctx context.Context, id string, now time.Time) (bool, error) {
	res := s.g(ctx).Exec(`UPDATE share_links SET downloads = downloads + 1
		WHERE id = ? AND revoked_at IS NULL AND expires_at > ? AND (max_downloads IS NULL OR downloads < max_downloads)`, id, now.UTC())
	return res.RowsAffected == 1, res.Error
}
