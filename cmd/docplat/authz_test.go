package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"docplat/hotspot"
	"docplat/internal/testdb"
	"docplat/internal/wait"
)

// The authorization matrix over HTTP: role (admin, dept_admin, member,
// reader, anonymous) x endpoint x ownership (the member's own document, a
// colleague's in the same department, another department's) x visibility
// x the caller's grant (none, read, write, manage, expired, and read to
// the parent of the caller's department), plus a member of another
// department whom no grant names. The expected permission comes
// from the rules as the contract states them (expect below), not from
// package docs; each endpoint's status follows from it. Writes carry a
// stale If-Match, so a permitted write answers 412 and changes nothing,
// while a refused one answers 401, 403 or 404 first.

// matrixUser is a caller of the matrix and what the rules need of it.
type matrixUser struct {
	name, role string
	id         string
	dept       string // "P1" (under "School") or "O"
	c          *client
	grantee    bool // the user grants of the matrix name
}

type matrixDoc struct {
	id, owner, ownerDept, vis, grant string
}

// expect is the permission u holds on d as the contract states the rules:
// 0 none, 1 read, 2 write, 3 manage.
func expect(u matrixUser, d matrixDoc) int {
	if u.role == "admin" {
		return 3
	}
	p := 0
	if d.vis == "public" {
		p = 1
	}
	if u.role == "anonymous" {
		return p
	}
	switch {
	case d.owner == u.name:
		p = 3
	case u.role == "dept_admin" && d.ownerDept == u.dept:
		p = 3
	case d.vis == "department" && d.ownerDept == u.dept:
		p = max(p, 1)
	}
	if u.grantee {
		switch d.grant {
		case "read":
			p = max(p, 1)
		case "write":
			p = max(p, 2)
		case "manage":
			p = 3
		}
	}
	if d.grant == "parent-department-read" && u.dept == "P1" { // P1 is under School
		p = max(p, 1)
	}
	if u.role == "reader" {
		p = min(p, 1)
	}
	return p
}

func TestAuthorizationMatrix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		var parent, p1, other struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "School"}, 201, &parent)
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Physics", "parent_id": parent.ID}, 201, &p1)
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Other"}, 201, &other)
		deptID := map[string]string{"P1": p1.ID, "O": other.ID}
		mk := func(by *client, name, role, dept string) matrixUser {
			var u struct{ ID string }
			by.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": name, "password": "password-" + name, "role": role, "department_id": deptID[dept]}, 201, &u)
			return matrixUser{name: name, role: role, id: u.ID, dept: dept, c: a.login(name, "password-"+name), grantee: name != "m_outsider"}
		}
		da := mk(admin, "m_da", "dept_admin", "P1")
		// A dept_admin manages readers and members of its department like any member.
		member := mk(da.c, "m_member", "member", "P1")
		reader := mk(da.c, "m_reader", "reader", "P1")
		peer := mk(da.c, "m_peer", "member", "P1")
		outsider := mk(admin, "m_outsider", "member", "O")
		users := []matrixUser{{name: "admin", role: "admin", c: admin}, da, member, reader, outsider, {name: "anonymous", role: "anonymous", c: a.anon()}}

		// Readers do not upload (403 before the body is read), members do.
		if r, _ := reader.c.upload("r.txt", []byte("reader upload"), nil); r.status != 403 || r.errorCode() != "forbidden" {
			t.Fatalf("reader upload: %d %s", r.status, r.body)
		}

		owners := map[string]matrixUser{"m_member": member, "m_peer": peer, "m_outsider": outsider}
		grantKinds := []string{"none", "read", "write", "manage", "expired", "parent-department-read"}
		var docsList []matrixDoc
		var lastExpiry time.Time
		for _, owner := range []string{"m_member", "m_peer", "m_outsider"} {
			for _, vis := range []string{"private", "department", "public"} {
				for _, g := range grantKinds {
					o := owners[owner]
					d := o.c.mustUpload("m.txt", "matrixword "+owner+" "+vis+" "+g, map[string]string{"visibility": vis, "title": owner + " " + vis + " " + g})
					var items []map[string]any
					switch g {
					case "read", "write", "manage":
						for _, u := range []matrixUser{da, member, reader} {
							items = append(items, map[string]any{"principal": "user:" + u.id, "permission": g})
						}
					case "expired":
						expiring := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second)
						lastExpiry = expiring
						for _, u := range []matrixUser{da, member, reader} {
							items = append(items, map[string]any{"principal": "user:" + u.id, "permission": "manage", "expires_at": expiring})
						}
					case "parent-department-read":
						items = append(items, map[string]any{"principal": "department:" + parent.ID, "permission": "read"})
					}
					if items != nil {
						o.c.doJSON("PUT", "/api/v1/documents/"+d.ID+"/grants", map[string]any{"items": items}, 200, nil)
					}
					docsList = append(docsList, matrixDoc{id: d.ID, owner: owner, ownerDept: o.dept, vis: vis, grant: g})
				}
			}
		}
		time.Sleep(time.Until(lastExpiry) + 100*time.Millisecond) // the "expired" grants have expired now

		for _, u := range users {
			t.Run(u.name, func(t *testing.T) {
				var wantList []string
				for _, d := range docsList {
					p := expect(u, d)
					if p >= 1 {
						wantList = append(wantList, d.id)
					}
					checkEndpoints(t, u, d, p)
				}
				slices.Sort(wantList)
				var l docList
				u.c.doJSON("GET", "/api/v1/documents?page_size=100", nil, 200, &l)
				if got := sorted(ids(l)); !slices.Equal(got, wantList) {
					t.Errorf("list: got %d documents, want %d", len(got), len(wantList))
				}
				s := u.c.search("q=matrixword&page_size=100")
				if got := sorted(ids(s)); !slices.Equal(got, wantList) {
					t.Errorf("search: got %d documents, want %d", len(got), len(wantList))
				}
				for _, it := range s.Items {
					if !strings.Contains(it.Snippet, "matrixword") {
						t.Errorf("search snippet of %s = %q", it.ID, it.Snippet)
					}
				}
			})
		}

		// stats/hot: with every document in the hot set, each caller sees
		// exactly what it may read.
		var entries []hotspot.Entry
		for _, d := range docsList {
			entries = append(entries, hotspot.Entry{ID: d.id, RatePerSec: 10, Since: time.Now(), LeaseUntil: time.Now().Add(time.Hour)})
		}
		if err := a.hotSet.Put(context.Background(), entries, nil); err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			var hot struct {
				Items []struct {
					ID string `json:"document_id"`
				}
			}
			u.c.doJSON("GET", "/api/v1/stats/hot", nil, 200, &hot)
			var got, want []string
			for _, it := range hot.Items {
				got = append(got, it.ID)
			}
			for _, d := range docsList {
				if expect(u, d) >= 1 {
					want = append(want, d.id)
				}
			}
			if !slices.Equal(sorted(got), sorted(want)) {
				t.Errorf("%s: stats/hot shows %d documents, want %d", u.name, len(got), len(want))
			}
		}

		// stats/top ranks every document read above; each caller sees exactly
		// what it may read.
		type topItems struct {
			Items []struct{ Document struct{ ID string } }
		}
		wait.For(t, wait.Limit, "every document in the top list", func() bool {
			var top topItems
			admin.doJSON("GET", "/api/v1/stats/top?window=1h&limit=100", nil, 200, &top)
			return len(top.Items) == len(docsList)
		})
		for _, u := range users {
			var top topItems
			u.c.doJSON("GET", "/api/v1/stats/top?window=1h&limit=100", nil, 200, &top)
			var got, want []string
			for _, it := range top.Items {
				got = append(got, it.Document.ID)
			}
			for _, d := range docsList {
				if expect(u, d) >= 1 {
					want = append(want, d.id)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: stats/top shows %d documents, want %d", u.name, len(got), len(want))
			}
		}
	})
}

// checkEndpoints checks every per-document endpoint for u on d, who holds p.
func checkEndpoints(t *testing.T, u matrixUser, d matrixDoc, p int) {
	t.Helper()
	anon := u.role == "anonymous"
	base := "/api/v1/documents/" + d.id
	stale := map[string]string{"If-Match": `"r99999"`, "Content-Type": "application/json"}
	read := 404
	if p >= 1 {
		read = 200
	}
	// need is the status of an action that needs level n (a write with a
	// stale If-Match answers 412 when permitted).
	need := func(n int, ok int) int {
		switch {
		case anon:
			return 401
		case p < 1:
			return 404
		case p < n:
			return 403
		}
		return ok
	}
	// GET .../grants needs no sign-in to be refused: 404 or 403 as the rules say.
	grantsGet := need(3, 200)
	if anon {
		grantsGet = map[bool]int{true: 403, false: 404}[p >= 1]
	}
	body, ct := multipartBody("new.txt", []byte("new content"), nil)
	cases := []struct {
		name   string
		method string
		path   string
		body   string
		hdr    map[string]string
		want   int
	}{
		{"get", "GET", base, "", nil, read},
		{"content", "GET", base + "/content", "", nil, read},
		{"versions", "GET", base + "/versions", "", nil, read},
		{"version content", "GET", base + "/versions/1/content", "", nil, read},
		{"read token", "POST", base + "/read-token", "", nil, need(1, 201)},
		{"patch title", "PATCH", base, `{"title":"x"}`, stale, need(2, 412)},
		{"patch visibility", "PATCH", base, `{"visibility":"private"}`, stale, need(3, 412)},
		{"put content", "PUT", base + "/content", "", map[string]string{"If-Match": `"r99999"`, "Content-Type": ct}, need(2, 412)},
		{"delete", "DELETE", base, "", map[string]string{"If-Match": `"r99999"`}, need(3, 412)},
		{"grants get", "GET", base + "/grants", "", nil, grantsGet},
		{"grants put", "PUT", base + "/grants", `{"items":[]}`, stale, need(3, 412)},
	}
	for _, tc := range cases {
		var r response
		switch {
		case tc.name == "put content":
			r = u.c.do(tc.method, tc.path, body, tc.hdr)
		case tc.body != "":
			r = u.c.do(tc.method, tc.path, strings.NewReader(tc.body), tc.hdr)
		default:
			r = u.c.do(tc.method, tc.path, nil, tc.hdr)
		}
		if r.status != tc.want {
			t.Errorf("%s on %s/%s/grant %s (permission %d): %d, want %d: %.200s", tc.name, d.owner, d.vis, d.grant, p, r.status, tc.want, r.body)
		}
		// A read token reads as its user, without a session.
		if tc.name == "read token" && r.status == 201 {
			var tok struct{ URL string }
			if err := json.Unmarshal(r.body, &tok); err != nil {
				t.Fatal(err)
			}
			if tr := u.c.app.anon().do("GET", tok.URL, nil, nil); tr.status != 200 {
				t.Errorf("read token of %s on %s/%s/grant %s: %d", u.name, d.owner, d.vis, d.grant, tr.status)
			}
		}
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }
