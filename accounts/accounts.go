// Package accounts owns users, departments, roles, passwords and tokens: who
// a caller is and what an administrator may change. It knows no HTTP and no
// SQL; storage is reached through the Store interface below. Its errors are
// of the one vocabulary (package errs): the Err variables below, which
// callers match with errors.Is, and errs.BadRequest errors for bad input.
package accounts

import (
	"context"
	"time"

	"docplat/errs"
)

// Role is what a user may do across the platform.
type Role string

const (
	RoleAdmin     Role = "admin"      // everything
	RoleDeptAdmin Role = "dept_admin" // users, documents and grants of its own department
	RoleMember    Role = "member"
	// RoleReader reads, searches and downloads what visibility and grants
	// allow (every permission capped at read) and uploads nothing but
	// through an upload link: a school's students.
	RoleReader Role = "reader"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleDeptAdmin || r == RoleMember || r == RoleReader
}

// User is an account. DepartmentID is empty when the user belongs to none.
type User struct {
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	DisplayName  string    `json:"display_name"`
	Role         Role      `json:"role"`
	DepartmentID string    `json:"department_id"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	PasswordHash string    `json:"-"`
}

// Department groups users and documents and carries a storage quota.
// QuotaBytes 0 means unlimited.
type Department struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	ParentID   string    `json:"parent_id"`
	QuotaBytes int64     `json:"quota_bytes"`
	BytesUsed  int64     `json:"bytes_used"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// TokenKind separates login sessions from long-lived API tokens.
type TokenKind string

const (
	TokenSession TokenKind = "session"
	TokenAPI     TokenKind = "api"
)

// Token is a stored credential; only the SHA-256 of its secret is kept.
type Token struct {
	ID        string
	UserID    string
	Kind      TokenKind
	Name      string
	Hash      string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Page selects a slice of a list; Page counts from 1.
type Page struct {
	Page, Size int
}

// Offset is the number of rows before the page.
func (p Page) Offset() int { return (p.Page - 1) * p.Size }

// The errors of accounts that callers match with errors.Is, all of the one
// vocabulary (package errs); their messages are what the caller is told.
// Bad input is an errs.BadRequest error, and a conflict the caller can act
// on an errs.Conflict error wrapping ErrConflict, each with its own message.
var (
	// ErrNotFound: no such user, department or token. Stores return it for
	// a missing row.
	ErrNotFound = errs.New(errs.NotFound, "not found")
	// ErrConflict: a unique key is taken, or a row is still in use. Stores
	// return it; the service wraps it with a message (see conflict).
	ErrConflict = errs.New(errs.Conflict, "conflict")
	// ErrForbidden: the actor may not do this.
	ErrForbidden = errs.New(errs.Forbidden, "you are not allowed to do this")
	// ErrBadCredentials: Login's username or password is wrong, or the account is disabled.
	ErrBadCredentials = errs.New(errs.Unauthorized, "invalid username or password")
	// ErrUnauthorized: the token is missing, invalid or expired.
	ErrUnauthorized = errs.New(errs.Unauthorized, "sign in first (Authorization: Bearer <token> or the session cookie)")
)

// invalid is bad input, with a message meant for the caller.
func invalid(format string, args ...any) error {
	return errs.Errorf(errs.BadRequest, format, args...)
}

// conflict is ErrConflict with a message meant for the caller.
func conflict(msg string) error {
	return errs.Wrap(ErrConflict, errs.Conflict, msg)
}

// UserFilter narrows ListUsers; empty fields match everything.
type UserFilter struct {
	DepartmentID string
	ExceptRole   Role // users of this role are left out
	// Matching keeps users whose username or display name contains it
	// (the administration screen's search box).
	Matching string
}

// Store persists accounts. Implementations return ErrNotFound for missing
// rows and ErrConflict for unique-key violations.
type Store interface {
	CreateUser(ctx context.Context, u User) error
	UserByID(ctx context.Context, id string) (User, error)
	UserByUsername(ctx context.Context, username string) (User, error)
	// UpdateUser saves u; with revokeTokens it deletes every session and
	// API token of the user in the same transaction.
	UpdateUser(ctx context.Context, u User, revokeTokens bool) error
	// DeleteUser fails with ErrConflict while the user owns documents.
	DeleteUser(ctx context.Context, id string) error
	ListUsers(ctx context.Context, f UserFilter, p Page) ([]User, int64, error)
	// CountUsers counts enabled users with the role, or all users for "".
	CountUsers(ctx context.Context, role Role) (int64, error)

	CreateDepartment(ctx context.Context, d Department) error
	DepartmentByID(ctx context.Context, id string) (Department, error)
	UpdateDepartment(ctx context.Context, d Department) error
	// DeleteDepartment fails with ErrConflict while the department has users,
	// documents or child departments.
	DeleteDepartment(ctx context.Context, id string) error
	ListDepartments(ctx context.Context, p Page) ([]Department, int64, error)

	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token and its user.
	TokenByHash(ctx context.Context, hash string) (Token, User, error)
	DeleteToken(ctx context.Context, t Token) error
	// TokenHashes lists the stored hashes of a user's tokens.
	TokenHashes(ctx context.Context, userID string) ([]string, error)
	DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error)
}

// GetID lets generic code name a user or a department.
func (u User) GetID() string { return u.ID }

// GetID lets generic code name a user or a department.
func (d Department) GetID() string { return d.ID }
