package main

import (
	"net/http"
	"testing"

	"docplat/internal/testdb"
)

// TestDocumentPermissionSaysWhatTheCallerMayDo: GET .../permission answers
// the caller's own permission (owner manage, a write grantee write, a
// reader of a public document read) and hides a document the caller may
// not read, like GET of the document.
func TestDocumentPermissionSaysWhatTheCallerMayDo(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		var colleague struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "owner", "password": "owner-pass"}, 201, nil)
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "colleague", "password": "colleague-pass"}, 201, &colleague)
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "stranger", "password": "stranger-pass"}, 201, nil)
		owner := a.login("owner", "owner-pass")
		private := owner.mustUpload("a.txt", "hello", map[string]string{"visibility": "private"})
		public := owner.mustUpload("b.txt", "hello", map[string]string{"visibility": "public"})
		owner.doJSON("PUT", "/api/v1/documents/"+private.ID+"/grants", map[string]any{
			"items": []map[string]any{{"principal": "user:" + colleague.ID, "permission": "write"}},
		}, 200, nil)

		permission := func(c *client, id string) string {
			t.Helper()
			var p struct{ Permission string }
			r := c.doJSON("GET", "/api/v1/documents/"+id+"/permission", nil, 200, &p)
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			return p.Permission
		}
		colleagueClient := a.login("colleague", "colleague-pass")
		for _, c := range []struct {
			who  string
			c    *client
			id   string
			want string
		}{
			{"owner", owner, private.ID, "manage"},
			{"admin", admin, private.ID, "manage"},
			{"write grantee", colleagueClient, private.ID, "write"},
			{"anyone on a public document", a.anon(), public.ID, "read"},
		} {
			if got := permission(c.c, c.id); got != c.want {
				t.Errorf("%s: permission %q, want %q", c.who, got, c.want)
			}
		}
		if r := a.login("stranger", "stranger-pass").do("GET", "/api/v1/documents/"+private.ID+"/permission", nil, nil); r.status != http.StatusNotFound {
			t.Errorf("a stranger on a private document: %d %s, want 404", r.status, r.body)
		}
	})
}
