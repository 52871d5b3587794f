package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"docplat/hotspot"
	"docplat/internal/testdb"
)

// TestBadInputGetsContractErrorsAndPersistsNothing sends malformed and
// hostile requests; each gets its 4xx with the contract's error body, and
// afterwards no row and no blob exists.
func TestBadInputGetsContractErrorsAndPersistsNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b, func(c *config) { c.Docs.MaxUploadBytes = 64 << 10 })
		admin := a.admin()
		anon := a.anon()

		upload := func(filename string, content []byte, fields map[string]string) func() response {
			return func() response {
				body, ct := multipartBody(filename, content, fields)
				return admin.do("POST", "/api/v1/documents", body, map[string]string{"Content-Type": ct})
			}
		}
		raw := func(c *client, method, path, ct, body string, h ...string) func() response {
			return func() response {
				hdr := map[string]string{"Content-Type": ct}
				for i := 0; i+1 < len(h); i += 2 {
					hdr[h[i]] = h[i+1]
				}
				return c.do(method, path, strings.NewReader(body), hdr)
			}
		}
		elf := append([]byte("\x7fELF\x02\x01\x01"), bytes.Repeat([]byte{0}, 100)...)
		big := bytes.Repeat([]byte("a"), 64<<10+1)
		longQ := url.QueryEscape(strings.Repeat("文", 10<<10/3))
		expired := &client{app: a, token: "dp_" + strings.Repeat("a", 52)}

		cases := []struct {
			name   string
			send   func() response
			status int
			code   string
		}{
			{"oversized file", upload("big.txt", big, nil), 413, "too_large"},
			{"empty file", upload("empty.txt", []byte{}, nil), 400, "bad_request"},
			{"disallowed type (ELF)", upload("tool.bin", elf, nil), 415, "unsupported_type"},
			{"zip named .exe", upload("setup.exe", []byte("PK\x03\x04rest of zip"), nil), 415, "unsupported_type"},
			{"path-like file name", upload("../../etc/passwd", []byte("root:x:0:0"), nil), 400, "bad_request"},
			{"backslash file name", upload(`..\..\boot.ini`, []byte("x"), nil), 400, "bad_request"},
			{"no file part", upload("", nil, map[string]string{"title": "t"}), 400, "bad_request"},
			{"unknown form field", upload("a.txt", []byte("x"), map[string]string{"owner_id": "someone"}), 400, "bad_request"},
			{"bad visibility", upload("a.txt", []byte("x"), map[string]string{"visibility": "everyone"}), 400, "bad_request"},
			{"title too long", upload("a.txt", []byte("x"), map[string]string{"title": strings.Repeat("t", 201)}), 400, "bad_request"},
			{"10 KB title", upload("a.txt", []byte("x"), map[string]string{"title": strings.Repeat("t", 10<<10)}), 400, "bad_request"},
			{"right-to-left override in the file name", upload("evil\u202etxt.exe", []byte("x"), nil), 400, "bad_request"},
			{"line separator in the file name", upload("a\u2028b.txt", []byte("x"), nil), 400, "bad_request"},
			{"isolate in the file name", upload("a\u2067b.txt", []byte("x"), nil), 400, "bad_request"},
			{"bidi override in the title", upload("a.txt", []byte("x"), map[string]string{"title": "invoice\u202efdp.exe"}), 400, "bad_request"},
			{"bidi override in a patched title", raw(admin, "PATCH", "/api/v1/documents/nosuchdocument", "application/json", `{"title":"a\u202eb"}`), 400, "bad_request"},
			{"patch as text/plain", raw(admin, "PATCH", "/api/v1/documents/nosuchdocument", "text/plain", `{"title":"x"}`), 415, "unsupported_type"},
			{"patch as a form", raw(admin, "PATCH", "/api/v1/documents/nosuchdocument", "application/x-www-form-urlencoded", `title=x`), 415, "unsupported_type"},
			{"patch of nothing", raw(admin, "PATCH", "/api/v1/documents/nosuchdocument", "application/json", `{}`), 400, "bad_request"},
			{"patch of null", raw(admin, "PATCH", "/api/v1/documents/nosuchdocument", "application/json", `null`), 400, "bad_request"},
			{"malformed multipart", raw(admin, "POST", "/api/v1/documents", "multipart/form-data; boundary=zzz", "--zzz\r\nbroken"), 400, "bad_request"},
			{"multipart without boundary", raw(admin, "POST", "/api/v1/documents", "multipart/form-data", "x"), 400, "bad_request"},
			{"not multipart", raw(admin, "POST", "/api/v1/documents", "application/json", `{"file":"x"}`), 400, "bad_request"},
			{"upload without auth", raw(anon, "POST", "/api/v1/documents", "multipart/form-data; boundary=zzz", "--zzz--"), 401, "unauthorized"},
			{"invalid JSON", raw(admin, "POST", "/api/v1/admin/departments", "application/json", `{"name":`), 400, "bad_request"},
			{"unknown JSON field", raw(admin, "POST", "/api/v1/admin/departments", "application/json", `{"name":"x","quota":1}`), 400, "bad_request"},
			{"wrong JSON type", raw(admin, "POST", "/api/v1/admin/departments", "application/json", `{"name":"x","quota_bytes":"lots"}`), 400, "bad_request"},
			{"two JSON objects", raw(admin, "POST", "/api/v1/admin/departments", "application/json", `{"name":"x"}{"name":"y"}`), 400, "bad_request"},
			{"empty JSON body", raw(admin, "POST", "/api/v1/auth/login", "application/json", ``), 400, "bad_request"},
			{"negative quota", raw(admin, "POST", "/api/v1/admin/departments", "application/json", `{"name":"x","quota_bytes":-1}`), 400, "bad_request"},
			{"page_size=100000", raw(admin, "GET", "/api/v1/documents?page_size=100000", "", ""), 400, "bad_request"},
			{"page=0", raw(admin, "GET", "/api/v1/documents?page=0", "", ""), 400, "bad_request"},
			{"page not a number", raw(admin, "GET", "/api/v1/documents?page=abc", "", ""), 400, "bad_request"},
			{"bad sort", raw(admin, "GET", "/api/v1/documents?sort=size", "", ""), 400, "bad_request"},
			{"10 KB q", raw(admin, "GET", "/api/v1/documents?q="+longQ, "", ""), 400, "bad_request"},
			{"unknown document id", raw(admin, "GET", "/api/v1/documents/nosuchdocument", "", ""), 404, "not_found"},
			{"unknown id content", raw(admin, "GET", "/api/v1/documents/nosuchdocument/content", "", ""), 404, "not_found"},
			{"unknown version", raw(admin, "GET", "/api/v1/documents/nosuchdocument/versions/abc/content", "", ""), 404, "not_found"},
			{"unknown id delete", raw(admin, "DELETE", "/api/v1/documents/nosuchdocument", "", ""), 404, "not_found"},
			{"unknown id patch", raw(admin, "PATCH", "/api/v1/documents/nosuchdocument", "application/json", `{"title":"x"}`), 404, "not_found"},
			{"malformed If-Match", raw(admin, "PATCH", "/api/v1/documents/nosuchdocument", "application/json", `{"title":"x"}`, "If-Match", "garbage!"), 400, "bad_request"},
			{"unknown user", raw(admin, "PATCH", "/api/v1/admin/users/nobody", "application/json", `{"disabled":true}`), 404, "not_found"},
			{"unknown route", raw(admin, "GET", "/api/v1/nothing", "", ""), 404, "not_found"},
			{"wrong method", raw(admin, "PUT", "/api/v1/documents", "", ""), 405, "method_not_allowed"},
			{"missing token on /me", raw(anon, "GET", "/api/v1/me", "", ""), 401, "unauthorized"},
			{"forged token", raw(&client{app: a, token: "dp_forged"}, "GET", "/api/v1/me", "", ""), 401, "unauthorized"},
			{"unknown well-formed token", raw(expired, "GET", "/api/v1/documents", "", ""), 401, "unauthorized"},
			{"not a bearer scheme", raw(anon, "GET", "/api/v1/me", "", "", "Authorization", "Basic YWRtaW46YWRtaW4="), 401, "unauthorized"},
			{"wrong password", raw(anon, "POST", "/api/v1/auth/login", "application/json", `{"username":"admin","password":"nope-nope"}`), 401, "unauthorized"},
			{"SQL in username", raw(anon, "POST", "/api/v1/auth/login", "application/json", `{"username":"admin' OR '1'='1","password":"x"}`), 401, "unauthorized"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.send()
				if r.status != tc.status || r.errorCode() != tc.code {
					t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
				}
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Fatalf("error Content-Type = %q", ct)
				}
			})
		}

		// SQL metacharacters in q are just text.
		for _, q := range []string{"'; DROP TABLE documents; --", `" OR 1=1 --`, "%_%", `\`, "+-*<>()~@"} {
			if r := admin.do("GET", "/api/v1/documents?q="+url.QueryEscape(q), nil, nil); r.status != 200 {
				t.Errorf("q=%q: %d %s", q, r.status, r.body)
			}
		}

		for _, table := range []string{"documents", "document_versions", "document_tags", "blobs", "departments"} {
			if n := a.countRows(table); n != 0 {
				t.Errorf("%s has %d rows after rejected requests", table, n)
			}
		}
		assertNoBlobFiles(t, a.cfg.Store.DB.DataDir)
	})
}

// assertNoBlobFiles fails if any file (published or staged) is in the blob store.
func assertNoBlobFiles(t *testing.T, dataDir string) {
	t.Helper()
	_ = filepath.WalkDir(filepath.Join(dataDir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("file left in the blob store: %s", p)
		}
		return nil
	})
}

// TestRangeErrors covers unsatisfiable and malformed ranges.
func TestRangeErrors(t *testing.T) {
	a := newTestApp(t, testdb.SQLite)
	admin := a.admin()
	d := admin.mustUpload("r.txt", "0123456789", map[string]string{"visibility": "public"})
	for _, rng := range []string{"bytes=100-200", "bytes=20-", "lines=1-2", "bytes=5-2", "bytes=abc", "bytes=-0", "bytes=-00", "bytes= -0", "bytes=-0,-0"} {
		r := admin.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, map[string]string{"Range": rng})
		if r.status != http.StatusRequestedRangeNotSatisfiable || r.errorCode() != "bad_request" || r.header.Get("Content-Range") != "bytes */10" {
			t.Errorf("Range %s: %d %s %v", rng, r.status, r.body, r.header)
		}
	}
	r := admin.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, map[string]string{"Range": "bytes=-3"})
	if r.status != http.StatusPartialContent || string(r.body) != "789" {
		t.Errorf("suffix range: %d %q", r.status, r.body)
	}
	// The preconditions still come first.
	etag := r.header.Get("ETag")
	if r := admin.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, map[string]string{"Range": "bytes=-0", "If-None-Match": etag}); r.status != http.StatusNotModified {
		t.Errorf("bytes=-0 with a matching If-None-Match: %d, want 304", r.status)
	}
	if r := admin.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, map[string]string{"Range": "bytes=-0", "If-Range": `"other"`}); r.status != http.StatusOK || string(r.body) != "0123456789" {
		t.Errorf("bytes=-0 with a failing If-Range: %d %q, want the whole content", r.status, r.body)
	}
}

// TestPatchThatChangesNothing: a PATCH whose values are the current ones
// answers 200 with the document and changes nothing: same revision and
// ETag, a read token issued before still reads, and nginx is not purged.
func TestPatchThatChangesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		// An nginx admin API that records purges and accepts the rest.
		var purges atomic.Int64
		edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "DELETE" {
				purges.Add(1)
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"items":[]}`))
		}))
		t.Cleanup(edge.Close)
		a := newTestApp(t, b, func(c *config) {
			c.Hot.ReadTokenSecret, c.Hot.Admins, c.InternalSecret = "0123456789abcdef-test-secret", []string{edge.URL}, "0123456789abcdef-internal"
		})
		admin := a.admin()
		d := admin.mustUpload("same.txt", "same", map[string]string{"visibility": "private", "title": "Same", "tags": "a,b", "description": "d"})
		if err := a.hotSet.Put(context.Background(), []hotspot.Entry{{ID: d.ID, Since: time.Now(), LeaseUntil: time.Now().Add(time.Hour)}}, nil); err != nil {
			t.Fatal(err)
		}
		purges.Store(0)
		var tok struct{ URL string }
		admin.doJSON("POST", "/api/v1/documents/"+d.ID+"/read-token", nil, 201, &tok)
		var before, after struct {
			Revision int `json:"revision"`
		}
		admin.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, &before)
		for _, patch := range []map[string]any{
			{"title": "Same"},
			{"title": "  Same "},
			{"tags": []string{"a", "b"}, "visibility": "private"},
			{"description": "d", "tags": []string{"a", " b", "A"}},
		} {
			r := admin.doJSON("PATCH", "/api/v1/documents/"+d.ID, patch, 200, &after)
			if after.Revision != before.Revision || r.header.Get("ETag") != `"r`+strconv.Itoa(before.Revision)+`"` {
				t.Fatalf("PATCH %v: revision %d, ETag %s; want %d unchanged", patch, after.Revision, r.header.Get("ETag"), before.Revision)
			}
		}
		if r := a.anon().do("GET", tok.URL, nil, nil); r.status != 200 {
			t.Fatalf("a read token issued before a no-op PATCH: %d, want 200", r.status)
		}
		if n := purges.Load(); n != 0 {
			t.Fatalf("no-op PATCHes purged nginx %d times", n)
		}
		admin.doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"title": "Other"}, 200, &after)
		if after.Revision != before.Revision+1 || purges.Load() == 0 {
			t.Fatalf("a real change: revision %d (want %d), %d purges", after.Revision, before.Revision+1, purges.Load())
		}

		// A new version is held to the upload's file name rules.
		body, ct := multipartBody("v2\u202etxt.exe", []byte("x"), nil)
		if r := admin.do("PUT", "/api/v1/documents/"+d.ID+"/content", body, map[string]string{"Content-Type": ct}); r.status != 400 || r.errorCode() != "bad_request" {
			t.Fatalf("new version with a bidi file name: %d %s", r.status, r.body)
		}
	})
}
