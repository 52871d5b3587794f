package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"docplat/internal/testdb"
)

// TestDocumentLifecycle walks the contract's document flow end to end:
// upload -> read -> range -> 304 -> new version -> search -> delete.
func TestDocumentLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		var dept struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Physics", "quota_bytes": 0}, 201, &dept)
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "teacher", "password": "teacher-pass",
			"display_name": "T", "role": "member", "department_id": dept.ID}, 201, nil)
		teacher := a.login("teacher", "teacher-pass")

		v1 := "高并发文档管理系统的设计与实现。本文讨论多级缓存。\nAn English paragraph about cache coherence.\n"
		d := teacher.mustUpload("design.md", v1, map[string]string{"title": "系统设计", "description": "lecture notes", "tags": "arch, 缓存", "visibility": "department"})
		if d.Version != 1 || d.Revision != 1 || d.TextState != "ready" || d.Size != int64(len(v1)) || d.DepartmentID != dept.ID || !strings.HasPrefix(d.Mime, "text/markdown") {
			t.Fatalf("created document = %+v", d)
		}
		if want := []string{"arch", "缓存"}; fmt.Sprint(d.Tags) != fmt.Sprint(want) {
			t.Fatalf("tags = %v, want %v", d.Tags, want)
		}

		// Metadata and content.
		var got document
		r := teacher.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, &got)
		// Revision 1 is the upload, its text read with it (plain text: no job).
		if got.ID != d.ID || got.TextState != "ready" || r.header.Get("ETag") != `"r1"` {
			t.Fatalf("get = %+v etag %q", got, r.header.Get("ETag"))
		}
		r = teacher.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil)
		etag := r.header.Get("ETag")
		if r.status != 200 || string(r.body) != v1 || etag != `"`+d.SHA256+`"` || r.header.Get("Accept-Ranges") != "bytes" || r.header.Get("Last-Modified") == "" {
			t.Fatalf("content: %d etag=%q headers=%v", r.status, etag, r.header)
		}
		r = teacher.do("GET", "/api/v1/documents/"+d.ID+"/content?download=1", nil, nil)
		if !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("download disposition = %q", r.header.Get("Content-Disposition"))
		}
		r = teacher.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, map[string]string{"Range": "bytes=0-8"})
		if r.status != http.StatusPartialContent || string(r.body) != v1[:9] || r.header.Get("Content-Range") != fmt.Sprintf("bytes 0-8/%d", len(v1)) {
			t.Fatalf("range: %d %q %q", r.status, r.body, r.header.Get("Content-Range"))
		}
		r = teacher.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, map[string]string{"If-None-Match": etag})
		if r.status != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d", r.status)
		}

		// New version with a precondition; a stale one is refused.
		v2 := "第二版：文档管理系统 version two\n"
		body, ct := multipartBody("design.md", []byte(v2), nil)
		r = teacher.do("PUT", "/api/v1/documents/"+d.ID+"/content", body, map[string]string{"Content-Type": ct, "If-Match": `"1"`})
		if r.status != 200 {
			t.Fatalf("put content: %d %s", r.status, r.body)
		}
		var after document
		if r := teacher.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, &after); after.Revision != 2 || after.TextState != "ready" || r.header.Get("ETag") != `"r2"` {
			t.Fatalf("after the new version: revision %d, text %q, ETag %q; want 2, ready, \"r2\"", after.Revision, after.TextState, r.header.Get("ETag"))
		}
		body, ct = multipartBody("design.md", []byte("stale"), nil)
		r = teacher.do("PUT", "/api/v1/documents/"+d.ID+"/content", body, map[string]string{"Content-Type": ct, "If-Match": `"1"`})
		if r.status != http.StatusPreconditionFailed || r.errorCode() != "precondition_failed" {
			t.Fatalf("stale put: %d %s", r.status, r.body)
		}
		var versions struct {
			Items []struct{ Version int }
			Total int
		}
		teacher.doJSON("GET", "/api/v1/documents/"+d.ID+"/versions", nil, 200, &versions)
		if versions.Total != 2 || versions.Items[0].Version != 2 {
			t.Fatalf("versions = %+v", versions)
		}
		if r = teacher.do("GET", "/api/v1/documents/"+d.ID+"/versions/1/content", nil, nil); string(r.body) != v1 {
			t.Fatalf("version 1 content = %q", r.body)
		}
		if r = teacher.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil); string(r.body) != v2 {
			t.Fatalf("current content = %q", r.body)
		}

		// Metadata update: stale revision refused, current accepted.
		r = teacher.do("PATCH", "/api/v1/documents/"+d.ID, strings.NewReader(`{"title":"x"}`), map[string]string{"If-Match": `"r1"`})
		if r.status != http.StatusPreconditionFailed {
			t.Fatalf("stale patch: %d %s", r.status, r.body)
		}
		r = teacher.do("PATCH", "/api/v1/documents/"+d.ID, strings.NewReader(`{"title":"新标题 Kubernetes","tags":["k8s"]}`), map[string]string{"If-Match": `"r2"`})
		if r.status != 200 {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}

		// Search: Chinese substring, two-character word, English, title, tag.
		teacher.mustUpload("other.txt", "an unrelated note about lunch", map[string]string{"visibility": "public"})
		for _, q := range []string{"q=文档管理", "q=系统&sort=relevance", "q=version", "q=kubernetes", "q=新标题", "tag=k8s"} {
			l := teacher.search(q)
			if len(l.Items) != 1 || l.Items[0].ID != d.ID {
				t.Errorf("search %s = %v, want [%s]", q, ids(l), d.ID)
			}
		}
		if l := teacher.search("q=文档管理"); !strings.Contains(l.Items[0].Snippet, "<mark>文档管理</mark>") {
			t.Errorf("snippet = %q", l.Items[0].Snippet)
		}
		// Version 1's text is no longer searchable: only the current content is.
		if l := teacher.search("q=coherence"); len(l.Items) != 0 {
			t.Errorf("old version text still found: %v", ids(l))
		}

		// Delete: gone from reads and search.
		teacher.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
		if r = teacher.do("GET", "/api/v1/documents/"+d.ID, nil, nil); r.status != 404 || r.errorCode() != "not_found" {
			t.Fatalf("after delete: %d %s", r.status, r.body)
		}
		if l := teacher.search("q=文档管理"); len(l.Items) != 0 {
			t.Errorf("deleted document still found: %v", ids(l))
		}
		// In the trash until purged: its rows stay, then go with the purge.
		if n := a.countRows("document_versions WHERE document_id = '" + d.ID + "'"); n != 2 {
			t.Errorf("%d version rows in the trash, want 2", n)
		}
		teacher.doJSON("DELETE", "/api/v1/trash/"+d.ID, nil, 204, nil)
		if n := a.countRows("document_versions WHERE document_id = '" + d.ID + "'"); n != 0 {
			t.Errorf("%d version rows left after the purge", n)
		}
	})
}

// TestUnreferencedBlobsAreCollected shows that content whose documents are
// deleted leaves the disk once the grace period has passed.
func TestUnreferencedBlobsAreCollected(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		d := admin.mustUpload("a.txt", "collect me", nil)
		admin.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
		admin.doJSON("DELETE", "/api/v1/trash/"+d.ID, nil, 204, nil)
		if _, err := a.blobs.Open(d.SHA256); err != nil {
			t.Fatalf("blob should survive until collected: %v", err)
		}
		a.docs = withClock(a, 2*a.cfg.Docs.BlobGrace)
		r, err := a.docs.CollectGarbage(t.Context())
		if err != nil || r.Blobs != 1 {
			t.Fatalf("gc = %+v, %v", r, err)
		}
		if _, err := a.blobs.Open(d.SHA256); err == nil {
			t.Fatal("blob still on disk after collection")
		}
	})
}
