package main

import (
	"testing"

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
