package main

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"docplat/accounts"
	"docplat/internal/testdb"
)

// TestLoginLimitIsSharedAndKeyedOnTheNormalizedName: two instances on one
// Redis allow one burst of 10 wrong guesses between them, padded, case and
// fullwidth spellings of the name share it, and the right password under
// any spelling is refused while the account's bucket is empty.
func TestLoginLimitIsSharedAndKeyedOnTheNormalizedName(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	sharedRedisConfig(t, &cfg)
	a, b := startApp(t, cfg), startApp(t, cfg)
	a.admin().doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "victim", "password": "victim-pass"}, 201, nil)
	variants := []string{"victim", " victim", "victim\t", "\tVICTIM ", "Ｖｉｃｔｉｍ"}
	for i := range 10 {
		app := a
		if i%2 == 1 {
			app = b
		}
		u := variants[i%len(variants)]
		app.anon().doJSON("POST", "/api/v1/auth/login", map[string]string{"username": u, "password": "wrong-guess"}, 401, nil)
	}
	for _, app := range []*testApp{a, b} {
		for _, u := range variants {
			r := app.anon().doJSON("POST", "/api/v1/auth/login", map[string]string{"username": u, "password": "victim-pass"}, 429, nil)
			if r.header.Get("Retry-After") == "" || r.errorCode() != "rate_limited" {
				t.Fatalf("%q: 429 without Retry-After or code: %v %s", u, r.header, r.body)
			}
		}
	}
}

// TestPasswordChangeRevokesSessionsAndTokens: an admin's password reset on
// one instance ends the user's sessions and API tokens on both (the token
// cache included); a plain change such as the display name does not, and the
// new password signs in.
func TestPasswordChangeRevokesSessionsAndTokens(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	sharedRedisConfig(t, &cfg)
	a, b := startApp(t, cfg), startApp(t, cfg)
	adminA := a.admin()
	var u struct{ ID string }
	adminA.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "leaky", "password": "leaky-pass-1"}, 201, &u)
	session := a.login("leaky", "leaky-pass-1")
	var tok struct{ Token string }
	session.doJSON("POST", "/api/v1/me/tokens", map[string]any{"name": "script", "expires_in_s": 3600}, 201, &tok)
	old := []*client{session, {app: a, token: tok.Token}, {app: b, token: session.token}, {app: b, token: tok.Token}}
	for _, c := range old { // cached on both instances
		c.doJSON("GET", "/api/v1/me", nil, 200, nil)
	}
	adminA.doJSON("PATCH", "/api/v1/admin/users/"+u.ID, map[string]any{"display_name": "Leaky L."}, 200, nil)
	for _, c := range old {
		c.doJSON("GET", "/api/v1/me", nil, 200, nil)
	}
	(&client{app: b, token: adminA.token}).doJSON("PATCH", "/api/v1/admin/users/"+u.ID, map[string]any{"password": "leaky-pass-2"}, 200, nil)
	for i, c := range old {
		if r := c.do("GET", "/api/v1/me", nil, nil); r.status != 401 {
			t.Errorf("credential %d still works after the password change: %d", i, r.status)
		}
	}
	b.login("leaky", "leaky-pass-2").doJSON("GET", "/api/v1/me", nil, 200, nil)
}

// TestAPITokensNeedARecentSignIn: a session older than the bound cannot
// mint an API token (403 forbidden, saying to sign in again), nor can an
// API token; a fresh session can. The session row is aged before its
// first use, so no instance has cached it yet.
func TestAPITokensNeedARecentSignIn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend testdb.Backend) {
		a := newTestApp(t, backend)
		a.admin().doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "minter", "password": "minter-pass"}, 201, nil)
		fresh := a.login("minter", "minter-pass")
		var tok struct{ Token string }
		fresh.doJSON("POST", "/api/v1/me/tokens", map[string]any{"name": "ok", "expires_in_s": 3600}, 201, &tok)
		api := &client{app: a, token: tok.Token}
		r := api.doJSON("POST", "/api/v1/me/tokens", map[string]any{"name": "chained", "expires_in_s": 3600}, 403, nil)
		if r.errorCode() != "forbidden" || !strings.Contains(string(r.body), "sign in") {
			t.Errorf("API token minting a token: %s", r.body)
		}

		stale := a.login("minter", "minter-pass")
		aged := time.Now().UTC().Add(-accounts.RecentSignIn - time.Minute)
		if err := a.db.Gorm().Exec("UPDATE tokens SET created_at = ? WHERE token_hash = ?", aged, accounts.HashToken(stale.token)).Error; err != nil {
			t.Fatal(err)
		}
		stale.doJSON("GET", "/api/v1/me", nil, 200, nil) // still signed in
		r = stale.doJSON("POST", "/api/v1/me/tokens", map[string]any{"name": "late", "expires_in_s": 3600}, 403, nil)
		if r.errorCode() != "forbidden" || !strings.Contains(string(r.body), "recent sign-in") {
			t.Errorf("old session minting a token: %s", r.body)
		}
	})
}

// TestDeptAdminListsAndReadsTheSameUsers: an admin placed in a department
// is neither listed to that department's dept_admin nor readable by it.
func TestDeptAdminListsAndReadsTheSameUsers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend testdb.Backend) {
		a := newTestApp(t, backend)
		admin := a.admin()
		var dept, placed struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Physics"}, 201, &dept)
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "head", "password": "head-pass", "role": "dept_admin", "department_id": dept.ID}, 201, nil)
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "placed", "password": "placed-pass", "role": "admin", "department_id": dept.ID}, 201, &placed)
		head := a.login("head", "head-pass")
		var l struct {
			Items []struct{ ID, Username string }
			Total int
		}
		head.doJSON("GET", "/api/v1/admin/users?page_size=100", nil, 200, &l)
		for _, u := range l.Items {
			head.doJSON("GET", "/api/v1/admin/users/"+u.ID, nil, 200, nil)
			if u.ID == placed.ID {
				t.Errorf("dept_admin lists the admin placed in its department")
			}
		}
		if l.Total != 1 || len(l.Items) != 1 {
			t.Errorf("dept_admin lists %d users (total %d), want itself only", len(l.Items), l.Total)
		}
		head.doJSON("GET", "/api/v1/admin/users/"+placed.ID, nil, 404, nil)
	})
}

// TestAdminUserSearch: ?q= finds users by username or display name, within
// what the caller may administer, and refuses an over-long search.
func TestAdminUserSearch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend testdb.Backend) {
		a := newTestApp(t, backend)
		admin := a.admin()
		var dept struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Physics"}, 201, &dept)
		for _, u := range []map[string]any{
			{"username": "head", "password": "head-pass", "display_name": "张主任", "role": "dept_admin", "department_id": dept.ID},
			{"username": "li", "password": "li-password", "display_name": "李同学", "role": "reader", "department_id": dept.ID},
			{"username": "lina", "password": "lina-password", "display_name": "Lina", "role": "member"},
		} {
			admin.doJSON("POST", "/api/v1/admin/users", u, 201, nil)
		}
		search := func(c *client, q string) []string {
			t.Helper()
			var l struct{ Items []struct{ Username string } }
			c.doJSON("GET", "/api/v1/admin/users?q="+url.QueryEscape(q), nil, 200, &l)
			out := []string{}
			for _, u := range l.Items {
				out = append(out, u.Username)
			}
			return out
		}
		for q, want := range map[string][]string{"李": {"li"}, "LI": {"li", "lina"}, "主任": {"head"}, "%": {}} {
			if got := search(admin, q); !slices.Equal(got, want) {
				t.Errorf("admin searching %q: %v, want %v", q, got, want)
			}
		}
		if got := search(a.login("head", "head-pass"), "li"); !slices.Equal(got, []string{"li"}) {
			t.Errorf("dept_admin searching li: %v, want li alone (lina is in no department)", got)
		}
		admin.doJSON("GET", "/api/v1/admin/users?q="+strings.Repeat("x", 101), nil, 400, nil)
	})
}

// TestUploadsWithoutADepartmentAreChargedToTheirBucket: the documents of
// users without a department (a member not yet placed, the first admin)
// are counted in the "none" bucket under --no-department-quota, through
// the same three-phase commit: over it, 409 quota_exceeded and nothing
// stored; a delete frees the space.
func TestUploadsWithoutADepartmentAreChargedToTheirBucket(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend testdb.Backend) {
		a := newTestApp(t, backend, func(c *config) { c.NoDepartmentQuota = 20 })
		admin := a.admin()
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "unplaced", "password": "unplaced-pass"}, 201, nil)
		loner := a.login("unplaced", "unplaced-pass")
		d := loner.mustUpload("a.txt", "fifteen bytes!!", nil)
		for _, c := range []*client{loner, admin} {
			r, _ := c.upload("b.txt", []byte("ten bytes!"), nil)
			if r.status != 409 || r.errorCode() != "quota_exceeded" {
				t.Fatalf("over the no-department quota: %d %s", r.status, r.body)
			}
		}
		if n := a.countRows("documents"); n != 1 {
			t.Fatalf("%d documents after refused uploads", n)
		}
		var usage struct {
			Items []struct {
				DepartmentID string `json:"department_id"`
				BytesUsed    int64  `json:"bytes_used"`
				QuotaBytes   int64  `json:"quota_bytes"`
			}
		}
		admin.doJSON("GET", "/api/v1/stats/departments", nil, 200, &usage)
		found := false
		for _, u := range usage.Items {
			if u.DepartmentID == "none" {
				found = true
				if u.BytesUsed != 15 || u.QuotaBytes != 20 {
					t.Errorf("bucket none = %+v, want 15 of 20 bytes", u)
				}
			}
		}
		if !found {
			t.Fatalf("no \"none\" bucket in %+v", usage.Items)
		}
		loner.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
		loner.doJSON("DELETE", "/api/v1/trash/"+d.ID, nil, 204, nil) // the trash still counts: the purge returns the bytes
		admin.mustUpload("c.txt", "nineteen bytes!!!!!", nil)
	})
}
