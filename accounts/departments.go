package accounts

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"
)

// DepartmentPatch changes a department; nil fields stay as they are.
type DepartmentPatch struct {
	Name       *string
	QuotaBytes *int64
}

func validateDepartment(name string, quota int64) error {
	if name == "" || utf8.RuneCountInString(name) > 200 {
		return invalid("name is required (at most 200 characters)")
	}
	if quota < 0 {
		return invalid("quota_bytes must be >= 0 (0 means unlimited)")
	}
	return nil
}

// CreateDepartment adds a department (admin only). Errors: ErrForbidden,
// errs.BadRequest, a conflict wrapping ErrConflict (the name is taken).
func (s *Service) CreateDepartment(ctx context.Context, actor User, name, parentID string, quota int64) (Department, error) {
	if actor.Role != RoleAdmin {
		return Department{}, ErrForbidden
	}
	name = strings.TrimSpace(name)
	if err := validateDepartment(name, quota); err != nil {
		return Department{}, err
	}
	if parentID != "" {
		if _, err := s.store.DepartmentByID(ctx, parentID); errors.Is(err, ErrNotFound) {
			return Department{}, invalid("parent department %q does not exist", parentID)
		} else if err != nil {
			return Department{}, err
		}
	}
	now := s.now()
	d := Department{ID: NewID(), Name: name, ParentID: parentID, QuotaBytes: quota, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateDepartment(ctx, d); errors.Is(err, ErrConflict) {
		return Department{}, conflict("a department named " + name + " exists")
	} else if err != nil {
		return Department{}, err
	}
	return d, nil
}

// Department returns one department; a dept_admin sees only its own.
func (s *Service) Department(ctx context.Context, actor User, id string) (Department, error) {
	if !canManage(actor, id) {
		if actor.Role == RoleDeptAdmin {
			return Department{}, ErrNotFound
		}
		return Department{}, ErrForbidden
	}
	return s.store.DepartmentByID(ctx, id)
}

// UpdateDepartment renames a department or changes its quota (admin only).
func (s *Service) UpdateDepartment(ctx context.Context, actor User, id string, p DepartmentPatch) (Department, error) {
	if actor.Role != RoleAdmin {
		return Department{}, ErrForbidden
	}
	d, err := s.store.DepartmentByID(ctx, id)
	if err != nil {
		return Department{}, err
	}
	if p.Name != nil {
		d.Name = strings.TrimSpace(*p.Name)
	}
	if p.QuotaBytes != nil {
		d.QuotaBytes = *p.QuotaBytes
	}
	if err := validateDepartment(d.Name, d.QuotaBytes); err != nil {
		return Department{}, err
	}
	d.UpdatedAt = s.now()
	if err := s.store.UpdateDepartment(ctx, d); errors.Is(err, ErrConflict) {
		return Department{}, conflict("a department named " + d.Name + " exists")
	} else if err != nil {
		return Department{}, err
	}
	return d, nil
}

// DeleteDepartment removes an empty department (admin only). Errors:
// ErrForbidden, ErrNotFound, a conflict wrapping ErrConflict (not empty).
func (s *Service) DeleteDepartment(ctx context.Context, actor User, id string) error {
	if actor.Role != RoleAdmin {
		return ErrForbidden
	}
	if _, err := s.store.DepartmentByID(ctx, id); err != nil {
		return err
	}
	if err := s.store.DeleteDepartment(ctx, id); errors.Is(err, ErrConflict) {
		return conflict("the department still has users, documents or child departments")
	} else if err != nil {
		return err
	}
	return nil
}

// ListDepartments lists departments: all for an admin, its own for a dept_admin.
func (s *Service) ListDepartments(ctx context.Context, actor User, p Page) ([]Department, int64, error) {
	switch actor.Role {
	case RoleAdmin:
		return s.store.ListDepartments(ctx, p)
	case RoleDeptAdmin:
		d, err := s.store.DepartmentByID(ctx, actor.DepartmentID)
		if err != nil {
			return nil, 0, err
		}
		if p.Page > 1 {
			return []Department{}, 1, nil
		}
		return []Department{d}, 1, nil
	}
	return nil, 0, ErrForbidden
}

// maxDepartmentDepth bounds the walk up the department tree (a cycle can
// only come from a hand-edited database).
const maxDepartmentDepth = 64

// DepartmentLine is the department id followed by its ancestors, nearest
// first: a grant to a department covers its sub-departments. A department's
// parent never changes and a department with children cannot be deleted,
// so a line, once read, stays true and is remembered for the process's
// life. Empty for "".
func (s *Service) DepartmentLine(ctx context.Context, id string) ([]string, error) {
	if id == "" {
		return nil, nil
	}
	if v, ok := s.lines.Load(id); ok {
		return v.([]string), nil
	}
	line := []string{id}
	for cur := id; len(line) < maxDepartmentDepth; {
		d, err := s.store.DepartmentByID(ctx, cur)
		if errors.Is(err, ErrNotFound) {
			break // deleted meanwhile: its users are gone too
		}
		if err != nil {
			return nil, err
		}
		if d.ParentID == "" || slices.Contains(line, d.ParentID) {
			break
		}
		line = append(line, d.ParentID)
		cur = d.ParentID
	}
	s.lines.Store(id, line)
	return line, nil
}
