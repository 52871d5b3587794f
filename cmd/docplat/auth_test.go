package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"docplat/internal/testdb"
)

// TestCookieSessionNeedsCSRFHeaderForWrites: the browser flow. Login sets an
// HttpOnly session cookie and a readable CSRF cookie; reads work with the
// cookie alone, writes only with the matching X-CSRF-Token header.
func TestCookieSessionNeedsCSRFHeaderForWrites(t *testing.T) {
	a := newTestApp(t, testdb.SQLite)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	res, err := hc.Post(a.srv.URL+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"admin","password":"`+adminPassword+`"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("login: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	var session, csrf *http.Cookie
	for _, c := range res.Cookies() {
		switch c.Name {
		case "docplat_session":
			session = c
		case "docplat_csrf":
			csrf = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || csrf == nil || csrf.HttpOnly {
		t.Fatalf("cookies = %+v / %+v", session, csrf)
	}
	do := func(method, path, body string, header map[string]string) int {
		req, _ := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	cases := []struct {
		name         string
		method, path string
		header       map[string]string
		want         int
	}{
		{"read with cookie", "GET", "/api/v1/me", nil, 200},
		{"write without CSRF header", "POST", "/api/v1/admin/departments", nil, 403},
		{"write with wrong CSRF header", "POST", "/api/v1/admin/departments", map[string]string{"X-CSRF-Token": "nope"}, 403},
		{"write with CSRF header", "POST", "/api/v1/admin/departments", map[string]string{"X-CSRF-Token": csrf.Value}, 201},
	}
	for _, tc := range cases {
		if got := do(tc.method, tc.path, `{"name":"Dept `+tc.name+`"}`, tc.header); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	// Logout revokes the session; the stale cookie then reads as anonymous.
	if got := do("POST", "/api/v1/auth/logout", "", map[string]string{"X-CSRF-Token": csrf.Value}); got != 204 {
		t.Fatalf("logout: %d", got)
	}
	u, _ := url.Parse(a.srv.URL)
	jar.SetCookies(u, []*http.Cookie{session})
	if got := do("GET", "/api/v1/me", "", nil); got != 401 {
		t.Fatalf("/me after logout: %d", got)
	}
}

// TestTokensAndDisabledUsers: API tokens work like sessions until revoked
// by disabling the account; logout ends a bearer session.
func TestTokensAndDisabledUsers(t *testing.T) {
	a := newTestApp(t, testdb.SQLite)
	admin := a.admin()
	var u struct{ ID string }
	admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "student", "password": "student-pass"}, 201, &u)
	student := a.login("student", "student-pass")
	var tok struct{ ID, Token string }
	student.doJSON("POST", "/api/v1/me/tokens", map[string]any{"name": "jmeter", "expires_in_s": 3600}, 201, &tok)
	api := &client{app: a, token: tok.Token}
	api.doJSON("GET", "/api/v1/me", nil, 200, nil)
	for _, bad := range []map[string]any{{"name": "", "expires_in_s": 60}, {"name": "x", "expires_in_s": 0}, {"name": "x", "expires_in_s": 1e12}} {
		student.doJSON("POST", "/api/v1/me/tokens", bad, 400, nil)
	}
	// Members are kept out of administration.
	for _, p := range []string{"/api/v1/admin/users", "/api/v1/admin/departments"} {
		if r := student.do("GET", p, nil, nil); r.status != 403 || r.errorCode() != "forbidden" {
			t.Errorf("member GET %s: %d", p, r.status)
		}
	}
	// Disabling the account kills its sessions and API tokens at once.
	admin.doJSON("PATCH", "/api/v1/admin/users/"+u.ID, map[string]any{"disabled": true}, 200, nil)
	for _, c := range []*client{student, api} {
		if r := c.do("GET", "/api/v1/me", nil, nil); r.status != 401 {
			t.Errorf("disabled user's token still works: %d", r.status)
		}
	}
	a.anon().doJSON("POST", "/api/v1/auth/login", map[string]string{"username": "student", "password": "student-pass"}, 401, nil)
	// Logout ends the admin's bearer session.
	admin.doJSON("POST", "/api/v1/auth/logout", nil, 204, nil)
	admin.doJSON("GET", "/api/v1/me", nil, 401, nil)
}

// TestDepartmentAdministration: quotas, scope of dept_admins, and the 409s
// of the contract.
func TestDepartmentAdministration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		var dept, other struct {
			ID         string
			QuotaBytes int64 `json:"quota_bytes"`
			BytesUsed  int64 `json:"bytes_used"`
		}
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Math", "quota_bytes": 20}, 201, &dept)
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Art"}, 201, &other)
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Math"}, 409, nil)
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "boss", "password": "boss-pass", "role": "dept_admin", "department_id": dept.ID}, 201, nil)
		boss := a.login("boss", "boss-pass")
		// A dept_admin manages its own department's users only.
		boss.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "m1", "password": "m1-password", "department_id": dept.ID}, 201, nil)
		boss.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "m2", "password": "m2-password", "department_id": other.ID}, 403, nil)
		boss.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "m3", "password": "m3-password", "role": "admin", "department_id": dept.ID}, 403, nil)
		boss.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Mine"}, 403, nil)
		var users struct{ Total int }
		boss.doJSON("GET", "/api/v1/admin/users", nil, 200, &users)
		if users.Total != 2 {
			t.Errorf("dept_admin sees %d users, want 2 (itself and m1)", users.Total)
		}
		// Quota: 20 bytes. 15 fit, 10 more do not (409 quota_exceeded, nothing stored).
		m1 := a.login("m1", "m1-password")
		m1.mustUpload("a.txt", "fifteen bytes!!", nil)
		r, _ := m1.upload("b.txt", []byte("ten bytes!"), nil)
		if r.status != 409 || r.errorCode() != "quota_exceeded" {
			t.Fatalf("over quota: %d %s", r.status, r.body)
		}
		if n := a.countRows("documents"); n != 1 {
			t.Fatalf("%d documents after a refused upload", n)
		}
		admin.doJSON("GET", "/api/v1/admin/departments/"+dept.ID, nil, 200, &dept)
		if dept.BytesUsed != 15 {
			t.Errorf("bytes_used = %d, want 15", dept.BytesUsed)
		}
		// Raising the quota lets it through.
		admin.doJSON("PATCH", "/api/v1/admin/departments/"+dept.ID, map[string]any{"quota_bytes": 0}, 200, nil)
		m1.mustUpload("b.txt", "ten bytes!", nil)
		// 409 while users or documents remain.
		admin.doJSON("DELETE", "/api/v1/admin/departments/"+dept.ID, nil, 409, nil)
		admin.doJSON("DELETE", "/api/v1/admin/departments/"+other.ID, nil, 204, nil)
	})
}

// TestReadyzNamesTheFailingDependency: /readyz says which dependency is down.
func TestReadyzNamesTheFailingDependency(t *testing.T) {
	a := newTestApp(t, testdb.SQLite)
	a.anon().doJSON("GET", "/readyz", nil, 200, nil)
	a.anon().doJSON("GET", "/healthz", nil, 200, nil)
	a.db.Close()
	var body struct {
		Status  string
		Failing []string
	}
	a.anon().doJSON("GET", "/readyz", nil, 503, &body)
	if body.Status != "unavailable" || len(body.Failing) != 1 || body.Failing[0] != "database" {
		t.Fatalf("readyz = %+v", body)
	}
}

// TestOperationsEndpoints: metrics in Prometheus format with per-route
// counters, the OpenAPI document, and the UI.
func TestOperationsEndpoints(t *testing.T) {
	a := newTestApp(t, testdb.SQLite)
	a.anon().do("GET", "/api/v1/documents", nil, nil)
	r := a.anon().do("GET", "/metrics", nil, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `docplat_http_requests_total{method="GET",route="/api/v1/documents",status="200"} 1`) {
		t.Fatalf("metrics: %d\n%s", r.status, r.body)
	}
	var spec struct {
		OpenAPI string
		Paths   map[string]any
	}
	a.anon().doJSON("GET", "/api/openapi.json", nil, 200, &spec)
	if !strings.HasPrefix(spec.OpenAPI, "3.") || spec.Paths["/api/v1/documents/{id}/content"] == nil {
		t.Fatalf("openapi = %s, %d paths", spec.OpenAPI, len(spec.Paths))
	}
	if r := a.anon().do("GET", "/", nil, nil); r.status != 200 || !strings.Contains(string(r.body), "docplat") {
		t.Fatalf("UI: %d", r.status)
	}
	if r := a.anon().do("GET", "/healthz", nil, map[string]string{"X-Request-Id": "abc-123"}); r.header.Get("X-Request-Id") != "abc-123" {
		t.Fatalf("request id not echoed: %q", r.header.Get("X-Request-Id"))
	}
}

// TestLoginAttemptsAreRateLimitedPerAccount: guessing one account's password
// hits 429 with Retry-After; another account from the same address does not.
func TestLoginAttemptsAreRateLimitedPerAccount(t *testing.T) {
	a := newTestApp(t, testdb.SQLite)
	admin := a.admin()
	var last response
	for i := 0; i < 11; i++ {
		last = a.anon().do("POST", "/api/v1/auth/login", strings.NewReader(`{"username":"admin","password":"wrong-guess"}`), nil)
	}
	if last.status != http.StatusTooManyRequests || last.errorCode() != "rate_limited" || last.header.Get("Retry-After") == "" {
		t.Fatalf("11th guess: %d %s", last.status, last.body)
	}
	admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "other", "password": "other-pass"}, 201, nil)
	a.login("other", "other-pass")
}
