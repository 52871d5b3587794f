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
