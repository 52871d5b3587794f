package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"docplat/accounts"
	"docplat/audit"
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
	err := s.g(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		return audit.Record(tx, audit.OriginFrom(ctx).Entry(audit.UserCreate, u.ID, u.DepartmentID,
			map[string]any{"username": u.Username, "role": u.Role, "department_id": u.DepartmentID}))
	})
	if isDuplicate(err) {
		return accounts.ErrConflict
	}
	return err
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
		var old userRow
		if err := s.db.dialect.lockRow(tx).Where("id = ?", u.ID).Take(&old).Error; err != nil {
			return notFound(err, accounts.ErrNotFound)
		}
		res := tx.Model(&userRow{}).Where("id = ?", u.ID).Select("display_name", "password_hash", "role", "department_id", "disabled", "updated_at").Updates(&r)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return accounts.ErrNotFound
		}
		if revokeTokens { // a disabled account, or a changed password, loses its sessions and API tokens at once
			if err := tx.Where("user_id = ?", u.ID).Delete(&tokenRow{}).Error; err != nil {
				return err
			}
		}
		return audit.Record(tx, audit.OriginFrom(ctx).Entry(audit.UserUpdate, u.ID, u.DepartmentID, userChanges(old.user(), u)))
	})
}

// userChanges is an update's detail: the fields it changed, old and new
// (a password only as changed, never a hash).
func userChanges(old, u accounts.User) map[string]any {
	d := map[string]any{}
	changed := func(name string, o, n any) {
		if o != n {
			d[name] = audit.Change{Old: o, New: n}
		}
	}
	changed("display_name", old.DisplayName, u.DisplayName)
	changed("role", old.Role, u.Role)
	changed("department_id", old.DepartmentID, u.DepartmentID)
	changed("disabled", old.Disabled, u.Disabled)
	if old.PasswordHash != u.PasswordHash {
		d["password"] = "changed"
	}
	return d
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
		var old userRow
		if err := tx.Where("id = ?", id).Take(&old).Error; err != nil {
			return notFound(err, accounts.ErrNotFound)
		}
		res := tx.Where("id = ?", id).Delete(&userRow{})
		if isForeignKey(res.Error) {
			return accounts.ErrConflict
		}
		if res.Error == nil && res.RowsAffected == 0 {
			return accounts.ErrNotFound
		}
		if res.Error != nil {
			return res.Error
		}
		return audit.Record(tx, audit.OriginFrom(ctx).Entry(audit.UserDelete, id, deref(old.DepartmentID), map[string]any{"username": old.Username}))
	})
}

var userLikeEscaper = strings.NewReplacer(`!`, `!!`, `%`, `!%`, `_`, `!_`)

func (s *Accounts) ListUsers(ctx context.Context, f accounts.UserFilter, p accounts.Page) ([]accounts.User, int64, error) {
	q := s.g(ctx).Model(&userRow{})
	if f.DepartmentID != "" {
		q = q.Where("department_id = ?", f.DepartmentID)
	}
	if f.ExceptRole != "" {
		q = q.Where("role <> ?", string(f.ExceptRole))
	}
	if f.Matching != "" {
		// '!' escapes: a backslash means different things in SQLite's and
		// MariaDB's string literals. Both compare case-insensitively for
		// ASCII (SQLite's LIKE, MariaDB's default collation).
		p := "%" + userLikeEscaper.Replace(f.Matching) + "%"
		q = q.Where("(username LIKE ? ESCAPE '!' OR display_name LIKE ? ESCAPE '!')", p, p)
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
	err := s.g(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		return audit.Record(tx, audit.OriginFrom(ctx).Entry(audit.DepartmentCreate, d.ID, d.ID,
			map[string]any{"name": d.Name, "parent_id": d.ParentID, "quota_bytes": d.QuotaBytes}))
	})
	if isDuplicate(err) {
		return accounts.ErrConflict
	}
	return err
}

func (s *Accounts) DepartmentByID(ctx context.Context, id string) (accounts.Department, error) {
	var r departmentRow
	err := s.g(ctx).Where("id = ?", id).Take(&r).Error
	return r.department(), notFound(err, accounts.ErrNotFound)
}

func (s *Accounts) UpdateDepartment(ctx context.Context, d accounts.Department) error {
	err := s.g(ctx).Transaction(func(tx *gorm.DB) error {
		var old departmentRow
		if err := s.db.dialect.lockRow(tx).Where("id = ?", d.ID).Take(&old).Error; err != nil {
			return notFound(err, accounts.ErrNotFound)
		}
		res := tx.Model(&departmentRow{}).Where("id = ?", d.ID).
			Updates(map[string]any{"name": d.Name, "quota_bytes": d.QuotaBytes, "updated_at": d.UpdatedAt})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return accounts.ErrNotFound
		}
		detail := map[string]any{}
		if old.Name != d.Name {
			detail["name"] = audit.Change{Old: old.Name, New: d.Name}
		}
		if old.QuotaBytes != d.QuotaBytes {
			detail["quota_bytes"] = audit.Change{Old: old.QuotaBytes, New: d.QuotaBytes}
		}
		return audit.Record(tx, audit.OriginFrom(ctx).Entry(audit.DepartmentUpdate, d.ID, d.ID, detail))
	})
	if isDuplicate(err) {
		return accounts.ErrConflict
	}
	return err
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
		var old departmentRow
		if err := tx.Where("id = ?", id).Take(&old).Error; err != nil {
			return notFound(err, accounts.ErrNotFound)
		}
		res := tx.Where("id = ?", id).Delete(&departmentRow{})
		if isForeignKey(res.Error) {
			return accounts.ErrConflict
		}
		if res.Error == nil && res.RowsAffected == 0 {
			return accounts.ErrNotFound
		}
		if res.Error != nil {
			return res.Error
		}
		return audit.Record(tx, audit.OriginFrom(ctx).Entry(audit.DepartmentDelete, id, id, map[string]any{"name": old.Name}))
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

// CreateToken records a session as a login and an API token as its
// creation, both by the token's user.
func (s *Accounts) CreateToken(ctx context.Context, t accounts.Token) error {
	r := tokenRow{ID: t.ID, UserID: t.UserID, Kind: string(t.Kind), Name: t.Name, TokenHash: t.Hash, ExpiresAt: t.ExpiresAt, CreatedAt: t.CreatedAt}
	return s.g(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		e := audit.Entry{Action: audit.LoginSucceeded, Target: t.UserID}
		if t.Kind == accounts.TokenAPI {
			e = audit.Entry{Action: audit.TokenCreate, Target: t.ID, Detail: map[string]any{"name": t.Name, "expires_at": t.ExpiresAt}}
		}
		return s.recordForUser(ctx, tx, t.UserID, e)
	})
}

// recordForUser records e by the caller (the user itself when the context
// names nobody, as at login) in the user's department.
func (s *Accounts) recordForUser(ctx context.Context, tx *gorm.DB, userID string, e audit.Entry) error {
	o := audit.OriginFrom(ctx)
	e.ActorID, e.IP = o.ActorID, o.IP
	if e.ActorID == "" {
		e.ActorID = userID
	}
	var dept []string
	if err := tx.Raw("SELECT COALESCE(department_id, '') FROM users WHERE id = ?", userID).Scan(&dept).Error; err != nil {
		return err
	}
	if len(dept) == 1 {
		e.DepartmentID = dept[0]
	}
	return audit.Record(tx, e)
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

// DeleteToken records a session's end as a logout and an API token's as
// its revocation; a token already gone records nothing.
func (s *Accounts) DeleteToken(ctx context.Context, t accounts.Token) error {
	return s.g(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ?", t.ID).Delete(&tokenRow{})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		e := audit.Entry{Action: audit.Logout, Target: t.UserID}
		if t.Kind == accounts.TokenAPI {
			e = audit.Entry{Action: audit.TokenRevoke, Target: t.ID, Detail: map[string]any{"name": t.Name}}
		}
		return s.recordForUser(ctx, tx, t.UserID, e)
	})
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
