package main

import (
	"fmt"
	"sort"
	"testing"

	"docplat/internal/testdb"
)

// TestVisibilityIsEnforcedOnReadListAndSearch: a member never reads, lists
// or finds another department's private or department-only documents, and
// every refusal is a 404 (no existence leak).
func TestVisibilityIsEnforcedOnReadListAndSearch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		var physics, chemistry struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Physics"}, 201, &physics)
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Chemistry"}, 201, &chemistry)
		users := []struct{ name, role, dept string }{
			{"p_owner", "member", physics.ID}, {"p_member", "member", physics.ID}, {"p_admin", "dept_admin", physics.ID},
			{"c_member", "member", chemistry.ID},
		}
		for _, u := range users {
			admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": u.name, "password": "password-" + u.name, "role": u.role, "department_id": u.dept}, 201, nil)
		}
		as := func(name string) *client { return a.login(name, "password-"+name) }
		owner := as("p_owner")
		docsByVis := map[string]string{}
		for _, vis := range []string{"private", "department", "public"} {
			d := owner.mustUpload(vis+".txt", "量子力学 quantum notes "+vis, map[string]string{"visibility": vis, "title": "Quantum " + vis})
			docsByVis[vis] = d.ID
		}
		readers := []struct {
			name string
			c    *client
			want []string
		}{
			{"anonymous", a.anon(), []string{"public"}},
			{"owner", owner, []string{"department", "private", "public"}},
			{"same department member", as("p_member"), []string{"department", "public"}},
			{"department admin", as("p_admin"), []string{"department", "private", "public"}},
			{"other department member", as("c_member"), []string{"public"}},
			{"admin", admin, []string{"department", "private", "public"}},
		}
		for _, r := range readers {
			t.Run(r.name, func(t *testing.T) {
				want := map[string]bool{}
				var wantIDs []string
				for _, vis := range r.want {
					want[docsByVis[vis]] = true
					wantIDs = append(wantIDs, docsByVis[vis])
				}
				sort.Strings(wantIDs)
				for _, vis := range []string{"private", "department", "public"} {
					id := docsByVis[vis]
					for _, path := range []string{"", "/content", "/versions", "/versions/1/content"} {
						res := r.c.do("GET", "/api/v1/documents/"+id+path, nil, nil)
						if want[id] && res.status != 200 || !want[id] && (res.status != 404 || res.errorCode() != "not_found") {
							t.Errorf("GET %s%s: %d (may read: %v)", vis, path, res.status, want[id])
						}
					}
				}
				for _, q := range []string{"", "q=量子", "q=quantum", "q=力学"} {
					got := ids(r.c.search(q))
					sort.Strings(got)
					if fmt.Sprint(got) != fmt.Sprint(wantIDs) {
						t.Errorf("list %q = %v, want %v", q, got, wantIDs)
					}
				}
			})
		}
		// A reader who may not write gets 403; one who may not read gets 404.
		member := as("p_member")
		if r := member.do("DELETE", "/api/v1/documents/"+docsByVis["department"], nil, nil); r.status != 403 {
			t.Errorf("member deleting a readable document: %d", r.status)
		}
		if r := member.do("DELETE", "/api/v1/documents/"+docsByVis["private"], nil, nil); r.status != 404 {
			t.Errorf("member deleting an unreadable document: %d", r.status)
		}
		// The department admin may manage its department's documents.
		as("p_admin").doJSON("PATCH", "/api/v1/documents/"+docsByVis["private"], map[string]any{"visibility": "department"}, 200, nil)
	})
}
