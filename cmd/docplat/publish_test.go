package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"docplat/internal/testdb"
)

// untilPast sleeps until t has passed on this machine's clock.
func untilPast(t time.Time) { time.Sleep(time.Until(t) + 20*time.Millisecond) }

// TestScheduledDocumentIsHiddenUntilItsPublication: a document uploaded
// with publish_at is, until that second, visible to its managers (owner,
// its department's dept_admin, admins) only: everyone else, signed in or
// not, readers of its department included, gets 404 on every read path
// (metadata, content, versions, stats, share link) and never finds it in
// a listing or a search. From that second on everyone who may read it
// does, on every path at once, a search cached before it included.
func TestScheduledDocumentIsHiddenUntilItsPublication(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		var physics, chemistry struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Physics"}, 201, &physics)
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Chemistry"}, 201, &chemistry)
		for _, u := range []struct{ name, role, dept string }{
			{"teacher", "member", physics.ID}, {"colleague", "member", physics.ID}, {"head", "dept_admin", physics.ID},
			{"student", "reader", physics.ID}, {"chemist", "member", chemistry.ID},
		} {
			admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": u.name, "password": "password-" + u.name, "role": u.role, "department_id": u.dept}, 201, nil)
		}
		as := func(name string) *client { return a.login(name, "password-"+name) }
		teacher := as("teacher")
		managers := map[string]*client{"owner": teacher, "dept_admin": as("head"), "admin": admin}
		others := map[string]*client{"anonymous": a.anon(), "same-department member": as("colleague"), "reader": as("student"), "other department": as("chemist")}

		// Bad times are refused with the contract's error.
		r, _ := teacher.upload("bad.txt", []byte("x"), map[string]string{"publish_at": "tomorrow"})
		if r.status != 400 || r.errorCode() != "bad_request" {
			t.Fatalf("publish_at=tomorrow: %d %s, want 400 bad_request", r.status, r.body)
		}

		publishAt := time.Now().UTC().Truncate(time.Second).Add(6 * time.Second)
		lectureAt := publishAt.Add(time.Hour)
		d := teacher.mustUpload("handout.txt", "牛顿力学 scheduled handout", map[string]string{"visibility": "public", "title": "力学讲义",
			"publish_at": publishAt.Format(time.RFC3339), "lecture_at": lectureAt.Format(time.RFC3339)})
		var got struct {
			PublishAt *time.Time `json:"publish_at"`
			LectureAt *time.Time `json:"lecture_at"`
		}
		teacher.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, &got)
		if got.PublishAt == nil || !got.PublishAt.Equal(publishAt) || got.LectureAt == nil || !got.LectureAt.Equal(lectureAt) {
			t.Fatalf("document times %+v, want publish_at %s lecture_at %s", got, publishAt, lectureAt)
		}
		var share struct{ Token string }
		teacher.doJSON("POST", "/api/v1/documents/"+d.ID+"/shares", map[string]any{"expires_in_s": 3600}, 201, &share)

		paths := []string{"", "/content", "/versions", "/versions/1/content", "/stats"}
		check := func(when string, c *client, visible bool) {
			t.Helper()
			for _, p := range paths {
				res := c.do("GET", "/api/v1/documents/"+d.ID+p, nil, nil)
				if visible && res.status != 200 || !visible && (res.status != 404 || res.errorCode() != "not_found") {
					t.Errorf("%s: GET %s: %d %s (visible: %t)", when, p, res.status, res.body, visible)
				}
			}
			for _, q := range []string{"q=力学", "q=scheduled", "sort=created_at", "owner_id=" + d.OwnerID} {
				if found := slices.Contains(ids(c.search(q)), d.ID); found != visible {
					t.Errorf("%s: GET /api/v1/documents?%s lists it: %t, want %t", when, q, found, visible)
				}
			}
		}
		for name, c := range managers {
			check("before publication, "+name, c, true)
		}
		for name, c := range others {
			check("before publication, "+name, c, false)
		}
		if res := a.anon().do("GET", "/s/"+share.Token, nil, nil); res.status != 404 {
			t.Errorf("before publication: share link answered %d, want 404", res.status)
		}
		if time.Now().After(publishAt) {
			t.Fatal("the checks before publication ran past it: the test proved nothing (slow machine?)")
		}

		untilPast(publishAt)
		for name, c := range managers {
			check("after publication, "+name, c, true)
		}
		for name, c := range others {
			check("after publication, "+name, c, true)
		}
		if res := a.anon().do("GET", "/s/"+share.Token, nil, nil); res.status != 200 || !strings.Contains(string(res.body), "scheduled handout") {
			t.Errorf("after publication: share link answered %d", res.status)
		}

		// Scheduling an existing document hides it again; only managers
		// may (it decides who reads), and clearing it (null) publishes.
		future := time.Now().UTC().Truncate(time.Second).Add(time.Hour).Format(time.RFC3339)
		as("colleague").doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"publish_at": future}, 403, nil)
		teacher.doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"publish_at": future}, 200, nil)
		a.anon().doJSON("GET", "/api/v1/documents/"+d.ID, nil, 404, nil)
		teacher.doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"publish_at": "2026-13-01"}, 400, nil)
		teacher.doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"publish_at": nil}, 200, nil)
		a.anon().doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, nil)
	})
}

// TestScheduledDocumentAppearsOnEveryInstanceAtOnce: two instances on one
// database, each with the document cached (L1) while it is hidden, answer
// it from the second of its publication on, with no write in between to
// invalidate anything: the cached document carries publish_at and each
// request decides with its own clock.
func TestScheduledDocumentAppearsOnEveryInstanceAtOnce(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	sharedRedisConfig(t, &cfg)
	a, b := startApp(t, cfg), startApp(t, cfg)
	admin := a.admin()
	publishAt := time.Now().UTC().Truncate(time.Second).Add(3 * time.Second)
	d := admin.mustUpload("lecture.txt", "lecture handout for every instance", map[string]string{"visibility": "public",
		"publish_at": publishAt.Format(time.RFC3339)})
	for _, app := range []*testApp{a, b} {
		(&client{app: app, token: admin.token}).doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, nil) // cached on both
		if res := app.anon().do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil); res.status != 404 {
			t.Fatalf("before publication: %d, want 404", res.status)
		}
	}
	untilPast(publishAt)
	for i, app := range []*testApp{a, b} {
		if res := app.anon().do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil); res.status != 200 {
			t.Fatalf("instance %d right after publication: %d, want 200", i, res.status)
		}
	}
}
