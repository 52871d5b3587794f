package main

import (
	"strings"
	"sync"
	"testing"

	"docplat/internal/testdb"
)

// TestInstancesShareDatabaseAndBlobStore runs two app instances on one
// MariaDB database and one data directory, as a deployment behind nginx
// does: what one writes the other reads, concurrent uploads of the same
// content share one blob, and a session from one works on the other.
func TestInstancesShareDatabaseAndBlobStore(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	sharedRedisConfig(t, &cfg)
	a, b := startApp(t, cfg), startApp(t, cfg)
	adminA := a.admin()
	adminB := &client{app: b, token: adminA.token}

	d := adminA.mustUpload("shared.txt", "共享的讲义 shared handout", map[string]string{"visibility": "public"})
	if r := b.anon().do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil); r.status != 200 || string(r.body) != "共享的讲义 shared handout" {
		t.Fatalf("instance B reading A's upload: %d %q", r.status, r.body)
	}
	if l := adminB.search("q=讲义"); len(l.Items) != 1 {
		t.Fatalf("instance B search = %v", ids(l))
	}

	// Both instances upload identical content at once: one blob, all readable.
	var wg sync.WaitGroup
	created := make(chan string, 8)
	for i := 0; i < 8; i++ {
		c := adminA
		if i%2 == 1 {
			c = adminB
		}
		wg.Go(func() { created <- c.mustUpload("same.txt", strings.Repeat("same bytes ", 100), nil).SHA256 })
	}
	wg.Wait()
	close(created)
	for sha := range created {
		if _, err := b.blobs.Open(sha); err != nil {
			t.Fatalf("blob %s: %v", sha, err)
		}
	}
	if n := a.countRows("blobs"); n != 2 {
		t.Fatalf("blobs rows = %d, want 2 (deduplicated)", n)
	}
	// A caches the document, B changes it: A answers the new title at once.
	a.anon().doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, nil)
	adminB.doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"title": "renamed"}, 200, nil)
	var got document
	a.anon().doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, &got)
	if got.Title != "renamed" {
		t.Fatalf("instance A answered title %q after B's acknowledged rename", got.Title)
	}
	adminB.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
	a.anon().doJSON("GET", "/api/v1/documents/"+d.ID, nil, 404, nil)
	// Disabling a user on B ends its sessions on A too.
	var u struct{ ID string }
	adminA.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "leaver", "password": "leaver-pass"}, 201, &u)
	leaver := a.login("leaver", "leaver-pass")
	leaver.doJSON("GET", "/api/v1/me", nil, 200, nil)
	adminB.doJSON("PATCH", "/api/v1/admin/users/"+u.ID, map[string]any{"disabled": true}, 200, nil)
	leaver.doJSON("GET", "/api/v1/me", nil, 401, nil)
}
