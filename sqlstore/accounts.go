package sqlstore

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"docplat/accounts"
)

type userRow struct {
	ID           string
	Username     string
	DisplayName  string
	PasswordHash string
	Role         string
	DepartmentID *string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func toUserRow(u accounts.User) userRow {
	return userRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, PasswordHash: u.PasswordHash,
		Role: string(u.Role), DepartmentID: nullable(u.DepartmentID), Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func (r userRow) user() accounts.User {
	return accounts.User{ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, PasswordHash: r.PasswordHash,
		Role: accounts.Role(r.Role), DepartmentID: deref(r.DepartmentID), Disabled: r.Disabled, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

type departmentRow struct {
	ID         string
	Name       string
	ParentID   *string
	QuotaBytes int64
	BytesUsed  int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (departmentRow) TableName() string { return "departments" }

func (r departmentRow) department() accounts.Department {
	return accounts.Department{ID: r.ID, Name: r.Name, ParentID: deref(r.ParentID), QuotaBytes: r.QuotaBytes,
		BytesUsed: r.BytesUsed, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

type tokenRow struct {
	ID        string
	UserID    string
	Kind      string
	Name      string
	TokenHash string
	ExpiresAt time.Time
	CreatedAt time.Time
}

func (tokenRow) TableName() string { return "tokens" }

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func notFound(err error, domain error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain
	}
	return err
}

// Accounts implements accounts.Store.
type Accounts struct{ db *DB }

// Accounts returns the accounts store.
func (db *DB) Accounts() *Accounts { return &Accounts{db: db} }

var _ accounts.Store = (*Accounts)(nil)

func (s *Accounts) g(ctx context.Context) *gorm.DB { return s.db.gorm.WithContext(ctx) }

func (s *Accounts) CreateUser(ctx context.Context, u accounts.User) error {
	r := toUserRow(u)
	if err := s.g(ctx).Create(&r).Error; isDuplicate(err) {
		return accounts.ErrConflict
	} else {
		return err
	}
}

func (s *Accounts) UserByID(ctx context.Context, id string) (accounts.User, error) {
	var r userRow
	err := s.g(ctx).Where("id = ?", id).Take(&r).Error
	return r.user(), notFound(err, accounts.ErrNotFound)
}

func (s *Accounts) UserByUsername(ctx context.Context, username string) (accounts.User, error) {
	var r userRow
	err := s.g(ctx).Where("username = ?", username).Take(&r).Error
	return r.user(), notFound(err, accounts.ErrNotFound)
}

func (s *Accounts) UpdateUser(ctx context.Context, u accounts.User, revokeTokens bool) error {
	r := toUserRow(u)
	return s.g(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&userRow{}).Where("id = ?", u.ID).Select("display_name", "password_hash", "role", "department_id", "disabled", "updated_at").Updates(&r)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return accounts.ErrNotFound
		}
		if revokeTokens {
			return tx.Where("user_id = ?", u.ID).Delete(&tokenRow{}).Error
		}
		return nil
	})
}

func (s *Accounts) DeleteUser(ctx context.Context, id string) error {
	return s.g(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Raw("SELECT COUNT(*) FROM documents WHERE owner_id = ?", id).Scan(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return accounts.ErrConflict
		}
		res := tx.Where("id = ?", id).Delete(&userRow{})
		if isForeignKey(res.Error) {
			return accounts.ErrConflict
		}
		if res.Error == nil && res.RowsAffected == 0 {
			return accounts.ErrNotFound
		}
		return res.Error
	})
}

func (s *Accounts) ListUsers(ctx context.Context, f accounts.UserFilter, p accounts.Page) ([]accounts.User, int64, error) {
	q := s.g(ctx).Model(&userRow{})
	if f.DepartmentID != "" {
		q = q.Where("department_id = ?", f.DepartmentID)
	}
	if f.ExceptRole != "" {
		q = q.Where("role <> ?", string(f.ExceptRole))
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var rows []userRow
	if err := q.Order("username").Limit(p.Size).Offset(p.Offset()).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	out := make([]accounts.User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, total, nil
}

func (s *Accounts) CountUsers(ctx context.Context, role accounts.Role) (int64, error) {
	var n int64
	q := s.g(ctx).Model(&userRow{})
	if role != "" {
		q = q.Where("role = ? AND disabled = ?", string(role), false)
	}
	err := q.Count(&n).Error
	return n, err
}

func (s *Accounts) CreateDepartment(ctx context.Context, d accounts.Department) error {
	r := departmentRow{ID: d.ID, Name: d.Name, ParentID: nullable(d.ParentID), QuotaBytes: d.QuotaBytes, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if err := s.g(ctx).Create(&r).Error; isDuplicate(err) {
		return accounts.ErrConflict
	} else {
		return err
	}
}

func (s *Accounts) DepartmentByID(ctx context.Context, id string) (accounts.Department, error) {
	var r departmentRow
	err := s.g(ctx).Where("id = ?", id).Take(&r).Error
	return r.department(), notFound(err, accounts.ErrNotFound)
}

func (s *Accounts) UpdateDepartment(ctx context.Context, d accounts.Department) error {
	res := s.g(ctx).Model(&departmentRow{}).Where("id = ?", d.ID).
		Updates(map[string]any{"name": d.Name, "quota_bytes": d.QuotaBytes, "updated_at": d.UpdatedAt})
	if isDuplicate(res.Error) {
		return accounts.ErrConflict
	}
	if res.Error == nil && res.RowsAffected == 0 {
		return accounts.ErrNotFound
	}
	return res.Error
}

func (s *Accounts) DeleteDepartment(ctx context.Context, id string) error {
	return s.g(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		err := tx.Raw(`SELECT (SELECT COUNT(*) FROM users WHERE department_id = ?)
			+ (SELECT COUNT(*) FROM documents WHERE department_id = ?)
			+ (SELECT COUNT(*) FROM departments WHERE parent_id = ?)`, id, id, id).Scan(&n).Error
		if err != nil {
			return err
		}
		if n > 0 {
			return accounts.ErrConflict
		}
		res := tx.Where("id = ?", id).Delete(&departmentRow{})
		if isForeignKey(res.Error) {
			return accounts.ErrConflict
		}
		if res.Error == nil && res.RowsAffected == 0 {
			return accounts.ErrNotFound
		}
		return res.Error
	})
}

func (s *Accounts) ListDepartments(ctx context.Context, p accounts.Page) ([]accounts.Department, int64, error) {
	var total int64
	if err := s.g(ctx).Model(&departmentRow{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var rows []departmentRow
	if err := s.g(ctx).Order("name").Limit(p.Size).Offset(p.Offset()).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	out := make([]accounts.Department, len(rows))
	for i, r := range rows {
		out[i] = r.department()
	}
	return out, total, nil
}

func (s *Accounts) CreateToken(ctx context.Context, t accounts.Token) error {
	r := tokenRow{ID: t.ID, UserID: t.UserID, Kind: string(t.Kind), Name: t.Name, TokenHash: t.Hash, ExpiresAt: t.ExpiresAt, CreatedAt: t.CreatedAt}
	return s.g(ctx).Create(&r).Error
}

func (s *Accounts) TokenByHash(ctx context.Context, hash string) (accounts.Token, accounts.User, error) {
	var t tokenRow
	if err := s.g(ctx).Where("token_hash = ?", hash).Take(&t).Error; err != nil {
		return accounts.Token{}, accounts.User{}, notFound(err, accounts.ErrNotFound)
	}
	u, err := s.UserByID(ctx, t.UserID)
	if err != nil {
		return accounts.Token{}, accounts.User{}, err
	}
	return accounts.Token{ID: t.ID, UserID: t.UserID, Kind: accounts.TokenKind(t.Kind), Name: t.Name, Hash: t.TokenHash,
		ExpiresAt: t.ExpiresAt.UTC(), CreatedAt: t.CreatedAt.UTC()}, u, nil
}

func (s *Accounts) DeleteToken(ctx context.Context, t accounts.Token) error {
	return s.g(ctx).Where("id = ?", t.ID).Delete(&tokenRow{}).Error
}

func (s *Accounts) TokenHashes(ctx context.Context, userID string) ([]string, error) {
	var hashes []string
	err := s.g(ctx).Model(&tokenRow{}).Where("user_id = ?", userID).Pluck("token_hash", &hashes).Error
	return hashes, err
}

func (s *Accounts) DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error) {
	res := s.g(ctx).Where("expires_at < ?", before).Delete(&tokenRow{})
	return res.RowsAffected, res.Error
}
