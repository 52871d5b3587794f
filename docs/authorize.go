package docs

import "context"

// Permission is what an actor may do to a document: read < write < manage.
type Permission int

const (
	PermNone Permission = iota
	PermRead
	PermWrite
	PermManage
)

// String is the permission's JSON and SQL spelling.
func (p Permission) String() string {
	switch p {
	case PermRead:
		return "read"
	case PermWrite:
		return "write"
	case PermManage:
		return "manage"
	}
	return "none"
}

// permission is a's permission on d. Until grants exist manage is write:
// the owner, admins and the department's dept_admins.
func permission(a Actor, d Document) Permission {
	switch {
	case canWrite(a, d):
		return PermManage
	case canRead(a, d):
		return PermRead
	}
	return PermNone
}

// Authorize loads the document (through the cache) and checks that a holds
// need on it: ErrNotFound when a may not even read it (no existence leak),
// ErrForbidden when a may read it but lacks need.
func (s *Service) Authorize(ctx context.Context, a Actor, id string, need Permission) (Document, error) {
	d, err := s.repo.Get(ctx, id)
	if err != nil {
		return Document{}, err
	}
	switch p := permission(a, d); {
	case p == PermNone:
		return Document{}, ErrNotFound
	case p < need:
		return Document{}, ErrForbidden
	}
	return d, nil
}
