package docs

import (
	"context"
	"slices"
	"strings"
	"time"
)

// MaxGrants caps a document's grants: a grant list is read on every
// permission decision, and beyond this a department grant is the tool.
const MaxGrants = 100

// Grants returns a document's grants, active and expired, to a manager:
// ErrNotFound when a may not read it, ErrForbidden without manage.
func (s *Service) Grants(ctx context.Context, a Actor, id string) ([]Grant, error) {
	d, err := s.Authorize(ctx, a, id, PermManage)
	if err != nil {
		return nil, err
	}
	return slices.Clone(d.Grants), nil
}

// SetGrants replaces a document's grants. It is a document change like a
// metadata patch (the same locked, cache- and edge-invalidating write,
// revision+1), so caches, read tokens and nginx drop the old rights within
// the staleness bound of any write. Errors: ErrUnauthorized, errs.BadRequest
// (a bad, unknown or repeated principal, a bad permission, an expiry not in
// the future, more than MaxGrants), ErrNotFound, ErrForbidden (not manage),
// ErrPrecondition, ErrUnavailable.
func (s *Service) SetGrants(ctx context.Context, a Actor, id string, ifMatch Precondition, grants []Grant) (Document, error) {
	if a.Anonymous() {
		return Document{}, ErrUnauthorized
	}
	now := s.now()
	clean, err := checkGrants(grants, now)
	if err != nil {
		return Document{}, err
	}
	// Refuse who may not manage before telling them which principals exist.
	cur, err := s.Authorize(ctx, a, id, PermManage)
	if err != nil {
		return Document{}, err
	}
	// Only principals being added must exist: a set read back and sent
	// again stays acceptable after one of its users was deleted.
	var added []string
	for _, g := range clean {
		if !slices.ContainsFunc(cur.Grants, func(o Grant) bool { return o.Principal == g.Principal }) {
			added = append(added, g.Principal)
		}
	}
	if len(added) > 0 {
		missing, err := s.repo.MissingPrincipals(ctx, added)
		if err != nil {
			return Document{}, err
		}
		if len(missing) > 0 {
			return Document{}, invalid("no such user or department: %s", strings.Join(missing, ", "))
		}
	}
	return s.repo.UpdateMeta(ctx, id, func(cur Document) error {
		if err := s.check(a, cur, PermManage); err != nil {
			return err
		}
		return ifMatch.check(cur)
	}, func(d *Document) {
		old := map[string]Grant{}
		for _, g := range d.Grants {
			old[g.Principal] = g
		}
		for i, g := range clean {
			// An unchanged grant keeps who made it and when.
			if o, ok := old[g.Principal]; ok && o.Permission == g.Permission && equalExpiry(o.ExpiresAt, g.ExpiresAt) {
				clean[i] = o
				continue
			}
			clean[i].CreatedBy, clean[i].CreatedAt = a.UserID, now
		}
		d.Grants = clean
	})
}

func equalExpiry(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// checkGrants validates a grant set and returns it normalized: sorted by
// principal, expiries in UTC at second precision.
func checkGrants(grants []Grant, now time.Time) ([]Grant, error) {
	if len(grants) > MaxGrants {
		return nil, invalid("at most %d grants per document (got %d); grant a department instead", MaxGrants, len(grants))
	}
	out := make([]Grant, 0, len(grants))
	seen := map[string]bool{}
	for _, g := range grants {
		kind, id, ok := strings.Cut(g.Principal, ":")
		if !ok || (kind+":" != UserPrincipal && kind+":" != DepartmentPrincipal) || !validID(id) {
			return nil, invalid("principal must be user:ID or department:ID (got %q)", g.Principal)
		}
		if g.Permission < PermRead || g.Permission > PermManage {
			return nil, invalid("permission of %s must be read, write or manage", g.Principal)
		}
		if seen[g.Principal] {
			return nil, invalid("principal %s is listed twice", g.Principal)
		}
		seen[g.Principal] = true
		var exp *time.Time
		if g.ExpiresAt != nil {
			t := g.ExpiresAt.UTC().Truncate(time.Second)
			if !t.After(now) {
				return nil, invalid("expires_at of %s must be in the future", g.Principal)
			}
			exp = &t
		}
		out = append(out, Grant{Principal: g.Principal, Permission: g.Permission, ExpiresAt: exp})
	}
	slices.SortFunc(out, func(a, b Grant) int { return strings.Compare(a.Principal, b.Principal) })
	return out, nil
}

// validID accepts the platform's ids (accounts.NewID: base32) and
// anything of their alphabet, so that a malformed one is bad input, not a
// lookup.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
