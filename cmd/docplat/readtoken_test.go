package main

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"docplat/hotspot"
	"docplat/internal/testdb"
	"docplat/internal/testhttp"
	"docplat/internal/wait"
	"docplat/nginx"
	"docplat/readtoken"
)

// TestReadTokensReadAsTheirUserUntilAnythingChanges: a read token lets an
// anonymous request read a private document as the user it was issued to;
// a tampered, expired, other-document or older-revision token, or one of a
// user since disabled, changes nothing (the answer is the anonymous 404).
func TestReadTokensReadAsTheirUserUntilAnythingChanges(t *testing.T) {
	a := newTestApp(t, testdb.SQLite, func(c *config) { c.Hot.ReadTokenSecret = "0123456789abcdef-test-secret" })
	admin := a.admin()
	admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "reader", "password": "password-reader", "role": "member"}, 201, nil)
	owner := a.login("reader", "password-reader")
	d := owner.mustUpload("secret.txt", "private lecture notes", map[string]string{"visibility": "private"})
	other := owner.mustUpload("other.txt", "other notes", map[string]string{"visibility": "private"})
	var tok struct {
		Token     string    `json:"token"`
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	owner.doJSON("POST", "/api/v1/documents/"+d.ID+"/read-token", nil, 201, &tok)
	if !strings.Contains(tok.URL, url.QueryEscape(tok.Token)) || time.Until(tok.ExpiresAt) > 5*time.Minute+time.Second {
		t.Fatalf("token answer: %+v", tok)
	}
	a.anon().doJSON("POST", "/api/v1/documents/"+d.ID+"/read-token", nil, 401, nil)
	a.login("admin", adminPassword).doJSON("POST", "/api/v1/documents/nosuchdocument/read-token", nil, 404, nil)

	secret := []byte("0123456789abcdef-test-secret")
	parts := strings.Split(tok.Token, ".")
	user := parts[2]
	var otherTok struct{ Token string }
	owner.doJSON("POST", "/api/v1/documents/"+other.ID+"/read-token", nil, 201, &otherTok)
	content := "/api/v1/documents/" + d.ID + "/content"
	// The signature's last hex digit changed (to "00" as before, it stayed
	// the same one time in 256).
	tampered := tok.Token[:len(tok.Token)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(tok.Token, "0")]
	cases := []struct {
		name  string
		path  string
		hdr   map[string]string
		want  int
		setup func()
	}{
		{"query token", tok.URL, nil, 200, nil},
		{"header token", content, map[string]string{"X-Docplat-Read-Token": tok.Token}, 200, nil},
		{"no token", content, nil, 404, nil},
		{"tampered", content + "?token=" + url.QueryEscape(tampered), nil, 404, nil},
		{"expired", content + "?token=" + readtoken.Sign(secret, d.ID, user, 1, time.Now().Add(-time.Second)), nil, 404, nil},
		{"another document's", content + "?token=" + url.QueryEscape(otherTok.Token), nil, 404, nil},
		{"revoked by a change (older revision)", tok.URL, nil, 404, func() {
			owner.doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"title": "renamed"}, 200, nil)
		}},
	}
	for _, tc := range cases {
		if tc.setup != nil {
			tc.setup()
		}
		if r := a.anon().do("GET", tc.path, nil, tc.hdr); r.status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.want)
		}
	}
	// A fresh token of a user disabled since reads nothing.
	owner.doJSON("POST", "/api/v1/documents/"+d.ID+"/read-token", nil, 201, &tok)
	admin.doJSON("PATCH", "/api/v1/admin/users/"+user, map[string]any{"disabled": true}, 200, nil)
	if r := a.anon().do("GET", tok.URL, nil, nil); r.status != 404 {
		t.Errorf("disabled user's token: %d, want 404", r.status)
	}
}

// TestRightsChangeRevokesReadTokensAtNginx: once a user is disabled, moved
// to another department, given another role or deleted, nginx no longer
// serves their read tokens for a hot non-public document (the app, asked
// instead, answers 404), while other users' tokens stay hot.
func TestRightsChangeRevokesReadTokensAtNginx(t *testing.T) {
	if err := nginx.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and nginx is unusable: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	const tokenSecret, secret = "rights-change-token-secret", "rights-change-admin-secret"
	adminAddr := testhttp.FreeAddr(t)
	a := newTestApp(t, testdb.SQLite, func(c *config) {
		c.Hot.ReadTokenSecret, c.Hot.Admins, c.InternalSecret = tokenSecret, []string{"http://" + adminAddr}, secret
	})
	base, edge := startHotTierAt(t, a, tokenSecret, secret, testhttp.FreeAddr(t), adminAddr, 1)
	admin := a.admin()
	var deptA, deptB struct{ ID string }
	admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "A"}, 201, &deptA)
	admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "B"}, 201, &deptB)
	owner := func(name string) *client {
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": name, "password": "password-" + name, "role": "member", "department_id": deptA.ID}, 201, nil)
		return a.login(name, "password-"+name)
	}
	keeper := owner("keeper")
	d := keeper.mustUpload("dept.txt", "department notes", map[string]string{"visibility": "department"})
	// Promoted as a detector would, so that the app's promoter keeps it
	// pushed (it evicts what the hot set does not hold).
	ctx := context.Background()
	if err := a.hotSet.Put(ctx, []hotspot.Entry{{ID: d.ID, Since: time.Now(), LeaseUntil: time.Now().Add(time.Hour)}}, []string{d.ID}); err != nil {
		t.Fatal(err)
	}
	wait.For(t, wait.Limit, "the promoter to push the document to nginx", func() bool {
		listed, err := edge.List(ctx)
		return err == nil && len(listed) == 1 && listed[0].ID == d.ID
	})
	tokenOf := func(u *client) string {
		var tok struct{ URL string }
		u.doJSON("POST", "/api/v1/documents/"+d.ID+"/read-token", nil, 201, &tok)
		return tok.URL
	}
	keeperURL := tokenOf(keeper)
	changes := []struct {
		name   string
		change func(id string)
	}{
		{"disabled", func(id string) {
			admin.doJSON("PATCH", "/api/v1/admin/users/"+id, map[string]any{"disabled": true}, 200, nil)
		}},
		{"moved", func(id string) {
			admin.doJSON("PATCH", "/api/v1/admin/users/"+id, map[string]any{"department_id": deptB.ID}, 200, nil)
		}},
		{"deleted", func(id string) { admin.doJSON("DELETE", "/api/v1/admin/users/"+id, nil, 204, nil) }},
	}
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			u := owner("user-" + ch.name)
			var me struct{ ID string }
			u.doJSON("GET", "/api/v1/me", nil, 200, &me)
			url := tokenOf(u)
			if r := send(t, "GET", base+url, nil); r.Status != 200 || r.Header.Get("X-Cache") != "HOT" {
				t.Fatalf("before the change: %d %s, want a hot 200", r.Status, r.Header.Get("X-Cache"))
			}
			ch.change(me.ID)
			if r := send(t, "GET", base+url, nil); r.Status != 404 || r.Header.Get("X-Cache") != "MISS" {
				t.Fatalf("after the change: %d %s %q, want the app's 404", r.Status, r.Header.Get("X-Cache"), r.Body)
			}
			if r := send(t, "GET", base+keeperURL, nil); r.Status != 200 || r.Header.Get("X-Cache") != "HOT" {
				t.Fatalf("another user's token: %d %s, want a hot 200", r.Status, r.Header.Get("X-Cache"))
			}
		})
	}
}
