package accounts

import (
	"context"
	"errors"
)

// MaxDirectoryIDs bounds one Directory lookup (one screen's worth of names).
const MaxDirectoryIDs = 100

// Directory is the display names of users and departments, by id.
type Directory struct {
	Users       map[string]string `json:"users"`
	Departments map[string]string `json:"departments"`
}

// Directory resolves ids (of users or departments, as documents and
// versions name them) to display names, so that people see names, not ids.
// Any signed-in user may ask: a name is what the platform already shows
// beside everyone's documents, and ids are random, so this lists nobody.
// Unknown ids are left out; a user without a display name answers with
// the username.
func (s *Service) Directory(ctx context.Context, actor User, ids []string) (Directory, error) {
	if actor.ID == "" {
		return Directory{}, ErrUnauthorized
	}
	if len(ids) > MaxDirectoryIDs {
		return Directory{}, invalid("ask for at most %d ids at a time", MaxDirectoryIDs)
	}
	d := Directory{Users: map[string]string{}, Departments: map[string]string{}}
	for _, id := range ids {
		if id == "" {
			continue
		}
		if _, done := d.Users[id]; done {
			continue
		}
		if _, done := d.Departments[id]; done {
			continue
		}
		u, err := s.store.UserByID(ctx, id)
		if err == nil {
			d.Users[id] = u.DisplayName
			if u.DisplayName == "" {
				d.Users[id] = u.Username
			}
			continue
		}
		if !errors.Is(err, ErrNotFound) {
			return Directory{}, err
		}
		dep, err := s.store.DepartmentByID(ctx, id)
		if err == nil {
			d.Departments[id] = dep.Name
			continue
		}
		if !errors.Is(err, ErrNotFound) {
			return Directory{}, err
		}
	}
	return d, nil
}

// UserNamed finds the user with this exact username (as typed at login), so
// that a member can share a document with a colleague whose username it
// knows. Like Directory it lists nobody: one exact name answers one user,
// or an empty directory when no enabled user has it (disabled accounts
// cannot use a grant, so they are not offered).
func (s *Service) UserNamed(ctx context.Context, actor User, username string) (Directory, error) {
	if actor.ID == "" {
		return Directory{}, ErrUnauthorized
	}
	d := Directory{Users: map[string]string{}, Departments: map[string]string{}}
	username = NormalizeUsername(username)
	if username == "" {
		return d, nil
	}
	u, err := s.store.UserByUsername(ctx, username)
	if errors.Is(err, ErrNotFound) {
		return d, nil
	}
	if err != nil {
		return Directory{}, err
	}
	if !u.Disabled {
		d.Users[u.ID] = u.DisplayName
		if u.DisplayName == "" {
			d.Users[u.ID] = u.Username
		}
	}
	return d, nil
}
