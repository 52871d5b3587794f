package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"docplat/docs"
	"docplat/hotspot"
	"docplat/internal/testdb"
	"docplat/internal/testhttp"
	"docplat/internal/wait"
	"docplat/nginx"
)

// TestGrantsAreValidatedAndReplaced: PUT .../grants replaces the set and
// answers it, bumps the revision (a document change), honours If-Match,
// and refuses bad input with 400 and the contract's body.
func TestGrantsAreValidatedAndReplaced(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		deptID, owner := setupDepartment(a, "Grants", 0)
		admin := a.admin()
		var colleague struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "colleague", "password": "colleague-password"}, 201, &colleague)
		d := owner.mustUpload("g.txt", "granted notes", map[string]string{"visibility": "private"})
		path := "/api/v1/documents/" + d.ID + "/grants"

		var empty struct{ Items []any }
		owner.doJSON("GET", path, nil, 200, &empty)
		if empty.Items == nil || len(empty.Items) != 0 {
			t.Fatalf("grants of a new document = %+v, want []", empty)
		}
		future := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		set := map[string]any{"items": []map[string]any{
			{"principal": "user:" + colleague.ID, "permission": "write", "expires_at": future},
			{"principal": "department:" + deptID, "permission": "read"},
		}}
		var got struct {
			Items []struct {
				Principal, Permission string
				ExpiresAt             *time.Time `json:"expires_at"`
			}
		}
		r := owner.doJSON("PUT", path, set, 200, &got)
		if len(got.Items) != 2 || got.Items[0].Principal != "department:"+deptID || got.Items[0].ExpiresAt != nil ||
			got.Items[1].Permission != "write" || got.Items[1].ExpiresAt == nil || !got.Items[1].ExpiresAt.Equal(future) {
			t.Fatalf("PUT grants answered %+v", got)
		}
		if r.header.Get("ETag") != `"r2"` {
			t.Fatalf("ETag after a grant change = %q, want \"r2\" (a grant change is a document change)", r.header.Get("ETag"))
		}
		colleagueC := a.login("colleague", "colleague-password")
		colleagueC.doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"title": "edited by a grantee"}, 200, nil)
		body, ct := multipartBody("g.txt", []byte("granted notes, second edition"), nil)
		if r := colleagueC.do("PUT", "/api/v1/documents/"+d.ID+"/content", body, map[string]string{"Content-Type": ct}); r.status != 200 {
			t.Fatalf("write grantee replacing the content: %d %s", r.status, r.body)
		}
		colleagueC.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 403, nil)                                   // write is not manage
		colleagueC.doJSON("GET", path, nil, 403, nil)                                                           // nor are the grants
		colleagueC.doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"visibility": "public"}, 403, nil) // neither is visibility
		a.anon().doJSON("GET", path, nil, 404, nil)

		// If-Match: a stale revision is refused.
		r = owner.do("PUT", path, strings.NewReader(`{"items":[]}`), map[string]string{"If-Match": `"r2"`, "Content-Type": "application/json"})
		if r.status != 412 {
			t.Fatalf("stale If-Match: %d %s", r.status, r.body)
		}
		past := time.Now().Add(-time.Minute).UTC()
		many := make([]map[string]any, 101)
		for i := range many {
			many[i] = map[string]any{"principal": fmt.Sprintf("user:u%d", i), "permission": "read"}
		}
		bad := []struct {
			name string
			body any
		}{
			{"no items", map[string]any{}},
			{"principal without kind", map[string]any{"items": []map[string]any{{"principal": colleague.ID, "permission": "read"}}}},
			{"unknown principal kind", map[string]any{"items": []map[string]any{{"principal": "group:" + colleague.ID, "permission": "read"}}}},
			{"empty id", map[string]any{"items": []map[string]any{{"principal": "user:", "permission": "read"}}}},
			{"bad permission", map[string]any{"items": []map[string]any{{"principal": "user:" + colleague.ID, "permission": "admin"}}}},
			{"no permission", map[string]any{"items": []map[string]any{{"principal": "user:" + colleague.ID}}}},
			{"past expiry", map[string]any{"items": []map[string]any{{"principal": "user:" + colleague.ID, "permission": "read", "expires_at": past}}}},
			{"unknown user", map[string]any{"items": []map[string]any{{"principal": "user:nosuchuser", "permission": "read"}}}},
			{"unknown department", map[string]any{"items": []map[string]any{{"principal": "department:nosuchdept", "permission": "read"}}}},
			{"duplicate", map[string]any{"items": []map[string]any{{"principal": "user:" + colleague.ID, "permission": "read"}, {"principal": "user:" + colleague.ID, "permission": "write"}}}},
			{"too many", map[string]any{"items": many}},
			{"unknown field", map[string]any{"items": []map[string]any{{"principal": "user:" + colleague.ID, "permission": "read", "role": "x"}}}},
		}
		for _, tc := range bad {
			r := owner.doJSON("PUT", path, tc.body, 400, nil)
			if r.errorCode() != "bad_request" {
				t.Errorf("%s: error code %q", tc.name, r.errorCode())
			}
		}
		// Nothing of the refused sets was stored.
		owner.doJSON("GET", path, nil, 200, &got)
		if len(got.Items) != 2 {
			t.Fatalf("grants after refused PUTs = %+v", got)
		}
		// A grantee deleted since: the set read back is accepted again as is,
		// but the user cannot be granted anew.
		admin.doJSON("DELETE", "/api/v1/admin/users/"+colleague.ID, nil, 204, nil)
		owner.doJSON("GET", path, nil, 200, &got)
		owner.doJSON("PUT", path, got, 200, nil)
		owner.doJSON("PUT", path, map[string]any{"items": []any{}}, 200, nil)
		owner.doJSON("PUT", path, map[string]any{"items": []map[string]any{{"principal": "user:" + colleague.ID, "permission": "read"}}}, 400, nil)
		// Purging the document takes its grants along.
		owner.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
		owner.doJSON("DELETE", "/api/v1/trash/"+d.ID, nil, 204, nil)
		if n := a.countRows("document_grants"); n != 0 {
			t.Fatalf("document_grants rows after delete = %d", n)
		}
	})
}

// TestGrantChangesReachEveryInstance: a grant given on instance A lets the
// grantee read on B; revoked on A, B refuses at once (the grant change is a
// fenced, locked document write like any other), the grantee's read token
// dies with the old revision, and an expiring grant stops reads on its own.
func TestGrantChangesReachEveryInstance(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	sharedRedisConfig(t, &cfg)
	cfg.Hot.ReadTokenSecret = "grants-across-instances-secret"
	a, b := startApp(t, cfg), startApp(t, cfg)
	_, ownerA := setupDepartment(a, "Owners", 0)
	admin := a.admin()
	var other struct{ ID string }
	admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Elsewhere"}, 201, &other)
	var colleague struct{ ID string }
	admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "colleague", "password": "colleague-password", "department_id": other.ID}, 201, &colleague)
	colleagueB := &client{app: b, token: a.login("colleague", "colleague-password").token}

	d := ownerA.mustUpload("n.txt", "lecture notes for a colleague", map[string]string{"visibility": "private"})
	content := "/api/v1/documents/" + d.ID + "/content"
	grants := "/api/v1/documents/" + d.ID + "/grants"
	colleagueB.doJSON("GET", content, nil, 404, nil) // B caches the document without the grant
	ownerA.doJSON("PUT", grants, map[string]any{"items": []map[string]any{{"principal": "department:" + other.ID, "permission": "read"}}}, 200, nil)
	colleagueB.doJSON("GET", content, nil, 200, nil)
	var tok struct{ URL string }
	colleagueB.doJSON("POST", "/api/v1/documents/"+d.ID+"/read-token", nil, 201, &tok)
	if r := b.anon().do("GET", tok.URL, nil, nil); r.status != 200 {
		t.Fatalf("read token before the revocation: %d", r.status)
	}

	ownerA.doJSON("PUT", grants, map[string]any{"items": []any{}}, 200, nil)
	colleagueB.doJSON("GET", content, nil, 404, nil)
	colleagueB.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 404, nil)
	if l := colleagueB.search("q=colleague"); len(l.Items) != 0 {
		t.Fatalf("B still finds the revoked document: %v", ids(l))
	}
	for _, inst := range []*testApp{a, b} {
		if r := inst.anon().do("GET", tok.URL, nil, nil); r.status != 404 {
			t.Fatalf("read token after the revocation: %d", r.status)
		}
	}

	// An expiring grant ends without a write: B decides from its cached
	// document by the clock.
	expires := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second)
	ownerA.doJSON("PUT", grants, map[string]any{"items": []map[string]any{{"principal": "user:" + colleague.ID, "permission": "read", "expires_at": expires}}}, 200, nil)
	colleagueB.doJSON("GET", content, nil, 200, nil)
	time.Sleep(time.Until(expires))
	wait.For(t, 2*time.Second, "the grant's expiry on B", func() bool {
		return colleagueB.do("GET", content, nil, nil).status == 404
	})
	if l := colleagueB.search("q=colleague"); len(l.Items) != 0 {
		t.Fatalf("B still finds the document after the grant expired: %v", ids(l))
	}
}

// TestRevokedGrantStopsTheHotTier: a grantee's read token for a hot private
// document is served by nginx from memory; revoking the grant (a document
// write, which purges the edges below the new revision before it answers)
// stops nginx serving it at once, and the app answers 404.
func TestRevokedGrantStopsTheHotTier(t *testing.T) {
	if err := nginx.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and nginx is unusable: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	const tokenSecret, internalSecret = "grants-hot-tier-token-secret", "grants-hot-tier-admin-secret"
	listen, adminAddr := testhttp.FreeAddr(t), testhttp.FreeAddr(t)
	a := newTestApp(t, testdb.SQLite, func(c *config) {
		c.Hot.ReadTokenSecret = tokenSecret
		c.InternalSecret = internalSecret
		c.Hot.Admins = []string{"http://" + adminAddr}
	})
	base, edge := startHotTierAt(t, a, tokenSecret, internalSecret, listen, adminAddr, 1)
	_, owner := setupDepartment(a, "HotOwners", 0)
	a.admin().doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "hotcolleague", "password": "colleague-password"}, 201, nil)
	colleague := a.login("hotcolleague", "colleague-password")
	var me struct{ ID string }
	colleague.doJSON("GET", "/api/v1/me", nil, 200, &me)

	d := owner.mustUpload("hot.txt", "a hot private handout", map[string]string{"visibility": "private"})
	grants := "/api/v1/documents/" + d.ID + "/grants"
	owner.doJSON("PUT", grants, map[string]any{"items": []map[string]any{{"principal": "user:" + me.ID, "permission": "read"}}}, 200, nil)
	var tok struct{ URL string }
	colleague.doJSON("POST", "/api/v1/documents/"+d.ID+"/read-token", nil, 201, &tok)

	// Promote it by hand (the detector would): in the hot set, pushed to nginx.
	ctx := context.Background()
	if err := a.hotSet.Put(ctx, []hotspot.Entry{{ID: d.ID, RatePerSec: 100, Since: time.Now(), LeaseUntil: time.Now().Add(time.Hour)}}, []string{d.ID}); err != nil {
		t.Fatal(err)
	}
	c, err := docs.NewHotSource(a.db.Documents(), a.blobs, 1<<20).HotContent(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := edge.Push(ctx, c); err != nil {
		t.Fatal(err)
	}
	if r := send(t, "GET", base+tok.URL, nil); r.Status != 200 || r.Header.Get("X-Cache") != "HOT" {
		t.Fatalf("before the revocation nginx answered %d, X-Cache %q", r.Status, r.Header.Get("X-Cache"))
	}

	owner.doJSON("PUT", grants, map[string]any{"items": []any{}}, 200, nil)
	if r := send(t, "GET", base+tok.URL, nil); r.Status != 404 {
		t.Fatalf("after the revocation nginx answered %d, X-Cache %q, want 404", r.Status, r.Header.Get("X-Cache"))
	}
}
