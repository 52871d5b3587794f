package docs

import (
	"context"
	"errors"
	"time"
)

// The one authority over documents: every question of who may do what to
// a document is answered here (Go, permissionOf) or by the SQL that
// ReadScope describes (listings and search), and the property test in
// sqlstore checks that both agree on random users, departments, documents
// and grants.

// Permission is what an actor may do to a document; each level includes
// the ones below it.
type Permission int

const (
	PermNone   Permission = iota
	PermRead              // see it, its content, versions and stats
	PermWrite             // change its metadata (visibility aside) and content
	PermManage            // also visibility, grants and deletion
)

var permissionNames = [...]string{PermNone: "", PermRead: "read", PermWrite: "write", PermManage: "manage"}

// String is the permission's JSON and SQL spelling ("" for PermNone).
func (p Permission) String() string {
	if p < PermNone || p > PermManage {
		return ""
	}
	return permissionNames[p]
}

// ParsePermission reads "read", "write" or "manage".
func ParsePermission(s string) (Permission, bool) {
	for p, name := range permissionNames {
		if name != "" && name == s {
			return Permission(p), true
		}
	}
	return PermNone, false
}

// MarshalText spells the permission for JSON.
func (p Permission) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText accepts the JSON spelling; anything else is an error.
func (p *Permission) UnmarshalText(b []byte) error {
	v, ok := ParsePermission(string(b))
	if !ok {
		return invalid("permission must be read, write or manage (got %q)", string(b))
	}
	*p = v
	return nil
}

// Grant gives a principal ("user:ID" or "department:ID", the latter
// covering its sub-departments) a permission on one document until
// ExpiresAt (nil: no expiry; an expired grant counts as absent).
type Grant struct {
	Principal  string     `json:"principal"`
	Permission Permission `json:"permission"`
	ExpiresAt  *time.Time `json:"expires_at"`
	CreatedBy  string     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Active reports whether g still counts at now.
func (g Grant) Active(now time.Time) bool { return g.ExpiresAt == nil || g.ExpiresAt.After(now) }

// Principal names of grants.
const (
	UserPrincipal       = "user:"
	DepartmentPrincipal = "department:"
)

// principals are the grant principals a stands for: itself and its
// department with the department's ancestors (a grant to a department
// covers its sub-departments).
func (a Actor) principals() []string {
	if a.Anonymous() {
		return nil
	}
	out := make([]string, 0, 1+len(a.Departments))
	out = append(out, UserPrincipal+a.UserID)
	for _, d := range a.departments() {
		out = append(out, DepartmentPrincipal+d)
	}
	return out
}

// departments is a's department and its ancestors (Departments, or just
// DepartmentID when the caller did not resolve the ancestry).
func (a Actor) departments() []string {
	if len(a.Departments) > 0 {
		return a.Departments
	}
	if a.DepartmentID != "" {
		return []string{a.DepartmentID}
	}
	return nil
}

// PermissionOf is the authority's decision: what a may do to d at now.
// A trashed document is invisible to everyone (MayManageTrashed decides
// who may restore or purge it). Owner, admins and dept_admins of d's
// department hold manage; visibility gives read (public: everyone;
// department: members of d's department); active grants to a or to one of
// a's departments add theirs; a reader is capped at read. Before d's
// PublishAt only its managers (write or more) see it at all.
func PermissionOf(a Actor, d Document, now time.Time) Permission {
	if d.Trashed() {
		return PermNone
	}
	p := permissionOf(a, d, now)
	if p < PermWrite && !d.Published(now) {
		return PermNone
	}
	return p
}

// Published reports whether d is visible at now to readers who do not
// manage it: it has no PublishAt, or PublishAt is not after now (at the
// very second it becomes visible, everywhere at once).
func (d Document) Published(now time.Time) bool {
	return d.PublishAt == nil || !now.Before(*d.PublishAt)
}

// permissionOf is PermissionOf without the trash and the publication time.
func permissionOf(a Actor, d Document, now time.Time) Permission {
	if a.Admin {
		return PermManage
	}
	p := PermNone
	if d.Visibility == Public {
		p = PermRead
	}
	if a.Anonymous() {
		return p
	}
	switch {
	case manages(a, d):
		p = PermManage
	case d.Visibility == Department && d.DepartmentID != "" && d.DepartmentID == a.DepartmentID:
		p = max(p, PermRead)
	}
	if p < PermManage {
		for _, principal := range a.principals() {
			for _, g := range d.Grants {
				if g.Principal == principal && g.Active(now) {
					p = max(p, g.Permission)
				}
			}
		}
	}
	if a.Reader {
		p = min(p, PermRead)
	}
	return p
}

// manages reports whether a holds manage on d by who it is rather than by
// a grant: its owner, or a dept_admin of its department.
func manages(a Actor, d Document) bool {
	return !a.Anonymous() && (d.OwnerID == a.UserID || a.DeptAdmin && d.DepartmentID != "" && d.DepartmentID == a.DepartmentID)
}

// MayManageTrashed is the authority's decision over a trashed document:
// whether a may see it in the trash, restore it or purge it. Those who
// manage it by who they are (admins, its owner, dept_admins of its
// department) may; a grant does not reach into the trash (a grant holder
// never deleted it and does not own its quota), and a reader never may.
// TrashScopeOf is the same rule as SQL for the trash listing.
func MayManageTrashed(a Actor, d Document) bool {
	switch {
	case !d.Trashed():
		return false
	case a.Admin:
		return true
	case a.Reader:
		return false
	}
	return manages(a, d)
}

// TrashScope is MayManageTrashed in the form sqlstore turns into the trash
// listing's SQL predicate (besides deleted_at IS NOT NULL).
type TrashScope struct {
	None       bool   // nobody's trash (anonymous callers, readers)
	All        bool   // an admin: every trashed document
	UserID     string // owned documents
	Department string // a dept_admin's department ("" for none)
}

// TrashScopeOf is a's trash scope.
func TrashScopeOf(a Actor) TrashScope {
	switch {
	case a.Admin:
		return TrashScope{All: true}
	case a.Anonymous() || a.Reader:
		return TrashScope{None: true}
	case a.DeptAdmin:
		return TrashScope{UserID: a.UserID, Department: a.DepartmentID}
	}
	return TrashScope{UserID: a.UserID}
}

// CheckCanCreate refuses actors who may not upload: anonymous callers
// (ErrUnauthorized) and readers (ErrForbidden; they upload only through an
// upload link).
func CheckCanCreate(a Actor) error {
	switch {
	case a.Anonymous():
		return ErrUnauthorized
	case a.Reader:
		return ErrForbidden
	}
	return nil
}

// permission is PermissionOf at the service's clock.
func (s *Service) permission(a Actor, d Document) Permission { return PermissionOf(a, d, s.now()) }

// check answers ErrNotFound to actors who may not even read d (no
// existence leak) and ErrForbidden to readers without need.
func (s *Service) check(a Actor, d Document, need Permission) error {
	p := s.permission(a, d)
	if p < PermRead {
		return ErrNotFound
	}
	if p < need {
		return ErrForbidden
	}
	return nil
}

// Authorize loads the document (through the cache) and checks that a holds
// need on it: ErrNotFound when a may not even read it, ErrForbidden when a
// may read it but lacks need.
func (s *Service) Authorize(ctx context.Context, a Actor, id string, need Permission) (Document, error) {
	d, err := s.repo.Get(ctx, id)
	if err != nil {
		return Document{}, err
	}
	if err := s.check(a, d, max(need, PermRead)); err != nil {
		return Document{}, err
	}
	return d, nil
}

// PermissionFor is what a may do to the document id (at least read, else
// ErrNotFound): the UI offers editing, sharing and deleting by it.
func (s *Service) PermissionFor(ctx context.Context, a Actor, id string) (Permission, error) {
	d, err := s.Authorize(ctx, a, id, PermRead)
	if err != nil {
		return PermNone, err
	}
	return s.permission(a, d), nil
}

// Readable keeps the ids a may read, in order (documents that are gone are
// dropped): the filter for lists ranked elsewhere (top, hot).
func (s *Service) Readable(ctx context.Context, a Actor, ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		_, err := s.Authorize(ctx, a, id, PermRead)
		switch {
		case err == nil:
			out = append(out, id)
		case errors.Is(err, ErrNotFound):
		default:
			return nil, err
		}
	}
	return out, nil
}

// GetSystem reads a document for the platform itself (verifying a read
// token, a share link, warming the cache), with no actor's rights applied:
// it is for internal lookups only and must never answer a caller directly.
// A trashed document is ErrNotFound here too: nothing serves it, whoever
// asks.
func (s *Service) GetSystem(ctx context.Context, id string) (Document, error) {
	d, err := s.repo.Get(ctx, id)
	if err == nil && d.Trashed() {
		return Document{}, ErrNotFound
	}
	return d, err
}

// ReadScope is the read rule in the form sqlstore turns into one SQL
// predicate for listings and search: what PermissionOf answers PermRead or
// more for, without loading a document. Every scope, All included,
// excludes trashed documents (deleted_at IS NULL), as PermissionOf does.
// A document not yet published (PublishAt after Now) is in the scope only
// if the actor manages it: owner or its department's dept_admin (both
// unless Reader), or an active grant of write or manage to one of
// Principals.
type ReadScope struct {
	All        bool      // an admin: everything
	Anonymous  bool      // public documents only
	UserID     string    // owned documents
	Department string    // the actor's department ("" for none)
	DeptAdmin  bool      // every document of Department, not only department-visible ones
	Principals []string  // grant principals: user:ID and department:ID for the department and its ancestors
	Reader     bool      // capped at read: manages nothing, so sees no unpublished document
	Now        time.Time // grants expiring at or before Now count as absent; documents publishing after Now are hidden from non-managers
}

// ScopeOf is a's read scope at now.
func ScopeOf(a Actor, now time.Time) ReadScope {
	switch {
	case a.Admin:
		return ReadScope{All: true, Now: now}
	case a.Anonymous():
		return ReadScope{Anonymous: true, Now: now}
	}
	return ReadScope{UserID: a.UserID, Department: a.DepartmentID, DeptAdmin: a.DeptAdmin, Principals: a.principals(), Reader: a.Reader, Now: now}
}
