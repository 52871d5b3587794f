package sqlstore

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"docplat/docs"
)

type grantRow struct {
	DocumentID string
	Principal  string
	Permission string
	ExpiresAt  *time.Time
	CreatedBy  string
	CreatedAt  time.Time
}

func (grantRow) TableName() string { return "document_grants" }

func (r grantRow) grant() docs.Grant {
	p, _ := docs.ParsePermission(r.Permission)
	g := docs.Grant{Principal: r.Principal, Permission: p, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC()}
	if r.ExpiresAt != nil {
		t := r.ExpiresAt.UTC()
		g.ExpiresAt = &t
	}
	return g
}

func loadGrants(tx *gorm.DB, id string) ([]docs.Grant, error) {
	var rows []grantRow
	if err := tx.Where("document_id = ?", id).Order("principal").Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	out := make([]docs.Grant, len(rows))
	for i, r := range rows {
		out[i] = r.grant()
	}
	return out, nil
}

func replaceGrants(tx *gorm.DB, id string, grants []docs.Grant) error {
	if err := tx.Where("document_id = ?", id).Delete(&grantRow{}).Error; err != nil {
		return err
	}
	if len(grants) == 0 {
		return nil
	}
	rows := make([]grantRow, len(grants))
	for i, g := range grants {
		rows[i] = grantRow{DocumentID: id, Principal: g.Principal, Permission: g.Permission.String(), ExpiresAt: g.ExpiresAt,
			CreatedBy: g.CreatedBy, CreatedAt: g.CreatedAt}
	}
	return tx.Create(&rows).Error
}

func equalGrants(a, b []docs.Grant) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Principal != y.Principal || x.Permission != y.Permission || (x.ExpiresAt == nil) != (y.ExpiresAt == nil) ||
			(x.ExpiresAt != nil && !x.ExpiresAt.Equal(*y.ExpiresAt)) {
			return false
		}
	}
	return true
}

// readable is the SQL form of docs' read rule (docs.PermissionOf >=
// PermRead) over documents d, from the scope docs computed: the property
// test (TestReadRuleAgreesWithTheAuthority) holds the two together.
func readable(s docs.ReadScope) (string, []any) {
	where, args := readableLive(s)
	// A trashed document is nobody's to read (docs.PermissionOf).
	return "(d.deleted_at IS NULL AND " + where + ")", args
}

// readableLive is readable's rule for documents that are not trashed.
func readableLive(s docs.ReadScope) (string, []any) {
	// Placeholders spelled out throughout: pageRows runs this through
	// database/sql, which does not expand a slice as gorm does.
	const published = "(d.publish_at IS NULL OR d.publish_at <= ?)"
	switch {
	case s.All:
		return "1=1", nil
	case s.Anonymous:
		return "(d.visibility = 'public' AND " + published + ")", []any{s.Now}
	}
	conds := []string{"d.visibility = 'public'", "d.owner_id = ?"}
	args := []any{s.UserID}
	if s.Department != "" {
		if s.DeptAdmin {
			conds = append(conds, "d.department_id = ?")
		} else {
			conds = append(conds, "(d.department_id = ? AND d.visibility = 'department')")
		}
		args = append(args, s.Department)
	}
	if len(s.Principals) > 0 {
		conds = append(conds, "EXISTS (SELECT 1 FROM document_grants g WHERE g.document_id = d.id AND g.principal IN ("+marks(len(s.Principals))+") AND (g.expires_at IS NULL OR g.expires_at > ?))")
		args = append(append(args, principalArgs(s)...), s.Now)
	}
	// Not yet published: only its managers (docs.PermissionOf's write or
	// more) see it.
	manages := []string{published}
	args = append(args, s.Now)
	if !s.Reader {
		manages = append(manages, "d.owner_id = ?")
		args = append(args, s.UserID)
		if s.Department != "" && s.DeptAdmin {
			manages = append(manages, "d.department_id = ?")
			args = append(args, s.Department)
		}
		if len(s.Principals) > 0 {
			manages = append(manages, "EXISTS (SELECT 1 FROM document_grants g WHERE g.document_id = d.id AND g.principal IN ("+marks(len(s.Principals))+
				") AND g.permission IN ('write', 'manage') AND (g.expires_at IS NULL OR g.expires_at > ?))")
			args = append(append(args, principalArgs(s)...), s.Now)
		}
	}
	return "((" + strings.Join(conds, " OR ") + ") AND (" + strings.Join(manages, " OR ") + "))", args
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func principalArgs(s docs.ReadScope) []any {
	out := make([]any, len(s.Principals))
	for i, p := range s.Principals {
		out[i] = p
	}
	return out
}

// holdsGrants reports whether any active grant names one of the scope's
// principals: a ranked search filters on the index's permission columns,
// which know no grants, so such a caller's search is answered by SQL.
func (s *Documents) holdsGrants(ctx context.Context, scope docs.ReadScope) (bool, error) {
	if len(scope.Principals) == 0 {
		return false, nil
	}
	var n []int
	err := s.g(ctx).Raw("SELECT 1 FROM document_grants WHERE principal IN ? AND (expires_at IS NULL OR expires_at > ?) LIMIT 1",
		scope.Principals, scope.Now).Scan(&n).Error
	return len(n) > 0, err
}

// MissingPrincipals returns the principals that name no user or department.
func (s *Documents) MissingPrincipals(ctx context.Context, principals []string) ([]string, error) {
	var users, depts []string
	for _, p := range principals {
		switch kind, id, _ := strings.Cut(p, ":"); kind + ":" {
		case docs.UserPrincipal:
			users = append(users, id)
		case docs.DepartmentPrincipal:
			depts = append(depts, id)
		}
	}
	found := map[string]bool{}
	for _, q := range []struct {
		table, prefix string
		ids           []string
	}{{"users", docs.UserPrincipal, users}, {"departments", docs.DepartmentPrincipal, depts}} {
		if len(q.ids) == 0 {
			continue
		}
		var ids []string
		if err := s.g(ctx).Raw("SELECT id FROM "+q.table+" WHERE id IN ?", q.ids).Scan(&ids).Error; err != nil {
			return nil, err
		}
		for _, id := range ids {
			found[q.prefix+id] = true
		}
	}
	var missing []string
	for _, p := range principals {
		if !found[p] {
			missing = append(missing, p)
		}
	}
	return missing, nil
}
