package main

import (
	"testing"

	"docplat/audit"
	"docplat/internal/testdb"
	"docplat/internal/wait"
)

// TestSharingIsAuditedOnce is the walk-through over the API: a
// teacher grants a colleague of another department write access, shares a
// handout as a link with expiry, collects homework through an upload link,
// revokes both; the audit log holds each of those actions exactly once,
// the link's download included (from the access stream), and a repeated
// revocation adds nothing.
func TestSharingIsAuditedOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		w := newShareWorld(t, a)
		var other struct{ ID string }
		w.other.doJSON("GET", "/api/v1/me", nil, 200, &other)

		w.teacher.doJSON("PUT", "/api/v1/documents/"+w.private.ID+"/grants",
			map[string]any{"items": []map[string]any{{"principal": "user:" + other.ID, "permission": "write"}}}, 200, nil)
		if r := w.other.do("GET", "/api/v1/documents/"+w.private.ID, nil, nil); r.status != 200 {
			t.Fatalf("the grantee reads the handout: %d %s", r.status, r.body)
		}

		link := w.share(w.teacher, w.private.ID, map[string]any{"expires_in_s": 3600}, 201)
		if r := a.anon().do("GET", "/s/"+link.Token+"?download=1", nil, nil); r.status != 200 {
			t.Fatalf("download through the link: %d %s", r.status, r.body)
		}
		w.teacher.doJSON("DELETE", "/api/v1/shares/"+link.Token, nil, 204, nil)
		w.teacher.do("DELETE", "/api/v1/shares/"+link.ID, nil, nil) // again: nothing to revoke

		box := createUploadLink(w.teacher, map[string]any{"title": "Homework 1", "expires_in_s": 3600, "max_files": 5}, 201)
		if r := uploadTo(a, "/u/"+box.Token, "alice.txt", []byte("my homework"), nil, nil); r.status != 201 && r.status != 200 {
			t.Fatalf("upload through the link: %d %s", r.status, r.body)
		}
		w.teacher.doJSON("DELETE", "/api/v1/upload-links/"+box.ID, nil, 204, nil)

		for _, c := range []struct {
			action audit.Action
			target string
		}{
			{audit.DocumentGrants, w.private.ID},
			{audit.ShareCreate, link.ID},
			{audit.ShareRevoke, link.ID},
			{audit.UploadLinkCreate, box.ID},
			{audit.UploadLinkUse, box.ID},
			{audit.UploadLinkRevoke, box.ID},
		} {
			if n := a.auditEntries(c.action, c.target); n != 1 {
				t.Errorf("%s on %s: %d entries, want 1", c.action, c.target, n)
			}
		}
		wait.For(t, wait.Limit, "the link's download to reach the audit log", func() bool { return a.auditEntries(audit.ShareDownload, link.ID) > 0 })
		if n := a.auditEntries(audit.ShareDownload, link.ID); n != 1 {
			t.Errorf("share.download: %d entries, want 1", n)
		}
		// The administrator finds it all through the API.
		page := a.admin().audit(map[string][]string{"target": {link.ID}})
		if len(page.Items) != 3 {
			t.Errorf("the admin's audit list for the link holds %d entries, want create, download and revoke: %+v", len(page.Items), page.Items)
		}
	})
}
