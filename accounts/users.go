package accounts

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"
)

// NewUser is the input of CreateUser.
type NewUser struct {
	Username     string
	Password     string
	DisplayName  string
	Role         Role
	DepartmentID string
}

// UserPatch changes a user; nil fields stay as they are.
type UserPatch struct {
	Role         *Role
	DepartmentID *string
	Disabled     *bool
	Password     *string
	DisplayName  *string
}

// usernamePattern is checked on the normalized name (NormalizeUsername).
var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

func validateDisplayName(s string) error {
	if utf8.RuneCountInString(s) > 200 {
		return invalid("display_name must be at most 200 characters")
	}
	return nil
}

// mayAdminister is the one rule for which users an actor sees and manages
// in administration (read, list, update, delete): an admin every user, a
// dept_admin the users of its own department except admins (even one
// placed there), a member nobody. adminScope is the same rule as a store
// filter; a test holds the two together.
func mayAdminister(actor, u User) bool {
	return canManage(actor, u.DepartmentID) && (u.Role != RoleAdmin || actor.Role == RoleAdmin)
}

// adminScope is mayAdminister for listings; false: the actor lists nobody.
func adminScope(actor User) (UserFilter, bool) {
	switch actor.Role {
	case RoleAdmin:
		return UserFilter{}, true
	case RoleDeptAdmin:
		return UserFilter{DepartmentID: actor.DepartmentID, ExceptRole: RoleAdmin}, true
	}
	return UserFilter{}, false
}

// canManage reports whether actor may administer users of department dept.
func canManage(actor User, dept string) bool {
	switch actor.Role {
	case RoleAdmin:
		return true
	case RoleDeptAdmin:
		return dept != "" && dept == actor.DepartmentID
	}
	return false
}

// CreateUser adds a user. A dept_admin may only add members and dept_admins
// of its own department. Errors: ErrForbidden, errs.BadRequest (an invalid
// field or an unknown department), a conflict wrapping ErrConflict (the
// username is taken), ErrUnavailable.
func (s *Service) CreateUser(ctx context.Context, actor User, in NewUser) (User, error) {
	if !canManage(actor, in.DepartmentID) || (in.Role == RoleAdmin && actor.Role != RoleAdmin) {
		return User{}, ErrForbidden
	}
	return s.createUser(ctx, in)
}

// CreateUserUnchecked adds a user without an acting user: for the command line.
func (s *Service) CreateUserUnchecked(ctx context.Context, in NewUser) (User, error) {
	return s.createUser(ctx, in)
}

func (s *Service) createUser(ctx context.Context, in NewUser) (User, error) {
	typed := strings.TrimSpace(in.Username)
	in.Username = NormalizeUsername(in.Username)
	if !usernamePattern.MatchString(in.Username) {
		return User{}, invalid("username must be 2-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if in.Role == "" {
		in.Role = RoleMember
	}
	if !in.Role.Valid() {
		return User{}, invalid("role must be one of admin, dept_admin, member, reader")
	}
	if in.Role == RoleDeptAdmin && in.DepartmentID == "" {
		return User{}, invalid("a dept_admin needs a department_id")
	}
	if err := validateDisplayName(in.DisplayName); err != nil {
		return User{}, err
	}
	if err := checkPasswordPolicy(in.Password); err != nil {
		return User{}, err
	}
	if err := s.checkDepartment(ctx, in.DepartmentID); err != nil {
		return User{}, err
	}
	hash, err := hashPassword(in.Password)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u := User{ID: NewID(), Username: in.Username, DisplayName: in.DisplayName, Role: in.Role,
		DepartmentID: in.DepartmentID, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if u.DisplayName == "" {
		u.DisplayName = typed // shown as created
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, ErrConflict) {
			return User{}, conflict("username " + in.Username + " is taken")
		}
		return User{}, err
	}
	return u, nil
}

func (s *Service) checkDepartment(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	if _, err := s.store.DepartmentByID(ctx, id); errors.Is(err, ErrNotFound) {
		return invalid("department %q does not exist", id)
	} else if err != nil {
		return err
	}
	return nil
}

// visibleUser loads a user the actor may administer; others are not found.
func (s *Service) visibleUser(ctx context.Context, actor User, id string) (User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	if !mayAdminister(actor, u) {
		if actor.Role == RoleDeptAdmin {
			return User{}, ErrNotFound
		}
		return User{}, ErrForbidden
	}
	return u, nil
}

// UserByID returns a user the actor may administer: ErrNotFound for one
// it may not see, ErrForbidden for a member.
func (s *Service) UserByID(ctx context.Context, actor User, id string) (User, error) {
	return s.visibleUser(ctx, actor, id)
}

// UserSystem reads a user for the platform itself (whom a read token
// stands for), with no acting user's rights applied: for internal lookups
// only, never to answer a caller with.
func (s *Service) UserSystem(ctx context.Context, id string) (User, error) {
	return s.store.UserByID(ctx, id)
}

// UpdateUser applies a patch. Nobody may change their own role or disable
// themselves (an admin cannot lock everyone out by accident).
func (s *Service) UpdateUser(ctx context.Context, actor User, id string, p UserPatch) (User, error) {
	if actor.Role != RoleAdmin && actor.Role != RoleDeptAdmin {
		return User{}, ErrForbidden
	}
	u, err := s.visibleUser(ctx, actor, id)
	if err != nil {
		return User{}, err
	}
	if p.Role != nil {
		if !p.Role.Valid() {
			return User{}, invalid("role must be one of admin, dept_admin, member, reader")
		}
		if u.ID == actor.ID && *p.Role != u.Role {
			return User{}, invalid("you cannot change your own role")
		}
		if *p.Role == RoleAdmin && actor.Role != RoleAdmin {
			return User{}, ErrForbidden
		}
		u.Role = *p.Role
	}
	if p.DepartmentID != nil {
		if !canManage(actor, *p.DepartmentID) {
			return User{}, ErrForbidden
		}
		if err := s.checkDepartment(ctx, *p.DepartmentID); err != nil {
			return User{}, err
		}
		u.DepartmentID = *p.DepartmentID
	}
	if u.Role == RoleDeptAdmin && u.DepartmentID == "" {
		return User{}, invalid("a dept_admin needs a department_id")
	}
	if p.Disabled != nil {
		if u.ID == actor.ID && *p.Disabled {
			return User{}, invalid("you cannot disable yourself")
		}
		u.Disabled = *p.Disabled
	}
	if p.DisplayName != nil {
		if err := validateDisplayName(*p.DisplayName); err != nil {
			return User{}, err
		}
		u.DisplayName = *p.DisplayName
	}
	if p.Password != nil {
		if err := checkPasswordPolicy(*p.Password); err != nil {
			return User{}, err
		}
		if u.PasswordHash, err = hashPassword(*p.Password); err != nil {
			return User{}, err
		}
	}
	u.UpdatedAt = s.now()
	// A disabled account, or one whose password was changed (perhaps because
	// it leaked), keeps no session or API token, the changer's own included.
	commit := func() error { return s.store.UpdateUser(ctx, u, u.Disabled || p.Password != nil) }
	if p.changesRights() {
		// Even when the values stay the same: a repeated request repeats
		// a revocation that was not confirmed.
		err = s.aroundRightsChange(ctx, u.ID, commit)
	} else {
		err = commit()
	}
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// DeleteUser removes a user who owns no documents. Errors: ErrForbidden,
// ErrNotFound, a conflict wrapping ErrConflict (documents left), ErrUnavailable.
func (s *Service) DeleteUser(ctx context.Context, actor User, id string) error {
	if actor.Role != RoleAdmin && actor.Role != RoleDeptAdmin {
		return ErrForbidden
	}
	u, err := s.visibleUser(ctx, actor, id)
	if err != nil {
		return err
	}
	if u.ID == actor.ID {
		return invalid("you cannot delete yourself")
	}
	err = s.aroundRightsChange(ctx, id, func() error { return s.store.DeleteUser(ctx, id) })
	if errors.Is(err, ErrConflict) {
		return conflict("the user still owns documents; disable the account or delete its documents first")
	} else if err != nil {
		return err
	}
	return nil
}

// ListUsers lists the users the actor may administer: the same users
// UserByID answers for it.
func (s *Service) ListUsers(ctx context.Context, actor User, p Page) ([]User, int64, error) {
	return s.SearchUsers(ctx, actor, "", p)
}

// MaxUserSearch is the longest search SearchUsers accepts, in characters.
const MaxUserSearch = 100

// SearchUsers is ListUsers narrowed to the users whose username or display
// name contains q (all of them for ""). Errors: ErrForbidden, errs.BadRequest
// for a q over MaxUserSearch characters.
func (s *Service) SearchUsers(ctx context.Context, actor User, q string, p Page) ([]User, int64, error) {
	f, ok := adminScope(actor)
	if !ok {
		return nil, 0, ErrForbidden
	}
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > MaxUserSearch {
		return nil, 0, invalid("q must be at most %d characters", MaxUserSearch)
	}
	f.Matching = q
	return s.store.ListUsers(ctx, f, p)
}
