package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"docplat/internal/testdb"
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
		{"tampered", content + "?token=" + url.QueryEscape(tok.Token[:len(tok.Token)-2]+"00"), nil, 404, nil},
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
