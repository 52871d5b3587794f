package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"docplat/internal/failpoint"
	"docplat/internal/testdb"
	"docplat/internal/wait"
	"docplat/txn"
)

type createdUploadLink struct {
	ID, Token, URL string
	Files, Bytes   int64
}

func createUploadLink(c *client, body map[string]any, want int) createdUploadLink {
	var out createdUploadLink
	c.doJSON("POST", "/api/v1/upload-links", body, want, &out)
	return out
}

// uploadTo posts a file to an upload link anonymously.
func uploadTo(a *testApp, url, filename string, content []byte, fields, header map[string]string) response {
	body, ct := multipartBody(filename, content, fields)
	h := map[string]string{"Content-Type": ct}
	for k, v := range header {
		h[k] = v
	}
	return a.anon().do("POST", url, body, h)
}

// linkDocuments lists what the creator got through the link.
func linkDocuments(c *client, linkID string) []document {
	var l docList
	c.doJSON("GET", "/api/v1/documents?tag=upload-link:"+linkID+"&page_size=100", nil, 200, &l)
	return l.Items
}

// linkCounts reads a link's files and bytes from the creator's list.
func linkCounts(c *client, id string) (files, bytes int64) {
	var out struct {
		Items []createdUploadLink
	}
	r := c.doJSON("GET", "/api/v1/upload-links", nil, 200, &out)
	if strings.Contains(string(r.body), `"token"`) {
		c.app.t.Fatalf("the list shows tokens: %s", r.body)
	}
	for _, l := range out.Items {
		if l.ID == id {
			return l.Files, l.Bytes
		}
	}
	c.app.t.Fatalf("link %s not listed: %s", id, r.body)
	return 0, 0
}

func TestUploadLinksCollectLimitRefuseAndExpire(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		_, teacher := setupDepartment(a, "Homework", 0)
		_, poor := setupDepartment(a, "Poor", 100)
		_, other := setupDepartment(a, "Other", 0)

		// Creation: signed in, valid fields.
		a.anon().doJSON("POST", "/api/v1/upload-links", map[string]any{"title": "x", "expires_in_s": 600, "max_files": 1}, 401, nil)
		for _, bad := range []map[string]any{
			{"expires_in_s": 600, "max_files": 1}, {"title": "x", "max_files": 1}, {"title": "x", "expires_in_s": 600},
			{"title": "x", "expires_in_s": 30, "max_files": 1}, {"title": "x", "expires_in_s": 600, "max_files": 1, "max_file_bytes": 2 << 20},
			{"title": "x", "expires_in_s": 600, "max_files": 1, "tags": []string{"a,b"}},
		} {
			createUploadLink(teacher, bad, 400)
		}

		hw := createUploadLink(teacher, map[string]any{"title": "<b>Homework</b> 作业 1", "tags": []string{"physics", "week-1"},
			"expires_in_s": 3600, "max_files": 3, "max_file_bytes": 50, "max_total_bytes": 80}, 201)
		if hw.URL != "/u/"+hw.Token || hw.ID == "" {
			t.Fatalf("created %+v", hw)
		}
		page := a.anon().do("GET", hw.URL, nil, map[string]string{"Accept-Language": "zh-CN"})
		if page.status != 200 || !strings.Contains(string(page.body), "&lt;b&gt;Homework") || !strings.Contains(string(page.body), "上传") ||
			!strings.Contains(string(page.body), "upload.onprogress") || strings.Contains(string(page.body), `type="password"`) {
			t.Fatalf("upload page: %d %s", page.status, page.body)
		}
		if en := a.anon().do("GET", hw.URL, nil, nil); !strings.Contains(string(en.body), "Upload") {
			t.Fatalf("English upload page: %s", en.body)
		}

		// An upload: a receipt only; the document is the creator's, private, tagged.
		r := uploadTo(a, hw.URL, "alice.txt", bytes.Repeat([]byte("a"), 50), nil, nil)
		var receipt map[string]any
		_ = json.Unmarshal(r.body, &receipt)
		if r.status != 201 || receipt["name"] != "alice.txt" || receipt["size"] != float64(50) || len(receipt["sha256"].(string)) != 64 || len(receipt) != 3 {
			t.Fatalf("upload: %d %s", r.status, r.body)
		}
		got := linkDocuments(teacher, hw.ID)
		if len(got) != 1 || got[0].Visibility != "private" || got[0].OwnerID != teacher.me().ID || strings.Join(got[0].Tags, ",") != "physics,upload-link:"+hw.ID+",week-1" {
			t.Fatalf("the creator's documents: %+v", got)
		}
		if l := linkDocuments(other, hw.ID); len(l) != 0 {
			t.Fatalf("another member sees %d uploaded documents", len(l))
		}
		a.anon().doJSON("GET", "/api/v1/documents/"+got[0].ID+"/content", nil, 404, nil)

		// Limits: per file, total, files.
		if r := uploadTo(a, hw.URL, "big.txt", bytes.Repeat([]byte("b"), 51), nil, nil); r.status != 413 {
			t.Fatalf("over the per-file limit: %d %s", r.status, r.body)
		}
		if r := uploadTo(a, hw.URL, "rest.txt", bytes.Repeat([]byte("r"), 31), nil, nil); r.status != 413 {
			t.Fatalf("over the bytes left: %d %s", r.status, r.body)
		}
		// Bad input as for uploads: empty, unsupported type, path-like name.
		if r := uploadTo(a, hw.URL, "empty.txt", nil, nil, nil); r.status != 400 {
			t.Fatalf("empty file: %d %s", r.status, r.body)
		}
		if r := uploadTo(a, hw.URL, "tool.exe", append([]byte("MZ\x90\x00\x03"), make([]byte, 20)...), nil, nil); r.status != 415 {
			t.Fatalf("an executable: %d %s", r.status, r.body)
		}
		if r := uploadTo(a, hw.URL, "../up.txt", []byte("x"), nil, nil); r.status != 400 {
			t.Fatalf("a path as name: %d %s", r.status, r.body)
		}
		if r := uploadTo(a, hw.URL, "x.txt", []byte("x"), map[string]string{"title": "mine"}, nil); r.status != 400 {
			t.Fatalf("an unknown field: %d %s", r.status, r.body)
		}
		for _, name := range []string{"bob.txt", "carol.txt"} {
			if r := uploadTo(a, hw.URL, name, []byte("fifteen bytes.."), nil, nil); r.status != 201 {
				t.Fatalf("upload %s: %d %s", name, r.status, r.body)
			}
		}
		wantNotFound(t, "used up", uploadTo(a, hw.URL, "late.txt", []byte("x"), nil, nil))
		wantNotFound(t, "used up page", a.anon().do("GET", hw.URL, nil, nil))
		if files, n := linkCounts(teacher, hw.ID); files != 3 || n != 80 || len(linkDocuments(teacher, hw.ID)) != 3 {
			t.Fatalf("counts %d files %d bytes, %d documents", files, n, len(linkDocuments(teacher, hw.ID)))
		}

		// A password: 401 without or wrong; by header or form field.
		pw := createUploadLink(teacher, map[string]any{"title": "secret box", "expires_in_s": 600, "max_files": 5, "password": "letmein"}, 201)
		if page := a.anon().do("GET", pw.URL, nil, nil); !strings.Contains(string(page.body), `type="password"`) {
			t.Fatalf("password page: %s", page.body)
		}
		if r := uploadTo(a, pw.URL, "a.txt", []byte("a"), nil, nil); r.status != 401 || r.errorCode() != "unauthorized" {
			t.Fatalf("no password: %d %s", r.status, r.body)
		}
		if r := uploadTo(a, pw.URL, "a.txt", []byte("a"), nil, map[string]string{"X-Upload-Password": "nope"}); r.status != 401 {
			t.Fatalf("wrong password: %d %s", r.status, r.body)
		}
		if r := uploadTo(a, pw.URL, "a.txt", []byte("a"), nil, map[string]string{"X-Upload-Password": "letmein"}); r.status != 201 {
			t.Fatalf("password header: %d %s", r.status, r.body)
		}
		if r := uploadTo(a, pw.URL, "b.txt", []byte("b"), map[string]string{"password": "letmein"}, nil); r.status != 201 {
			t.Fatalf("password field: %d %s", r.status, r.body)
		}

		// Quota: refused with 409, nothing stored, nothing counted.
		q := createUploadLink(poor, map[string]any{"title": "quota", "expires_in_s": 600, "max_files": 5}, 201)
		if r := uploadTo(a, q.URL, "huge.txt", bytes.Repeat([]byte("q"), 150), nil, nil); r.status != 409 || r.errorCode() != "quota_exceeded" {
			t.Fatalf("over quota: %d %s", r.status, r.body)
		}
		if files, n := linkCounts(poor, q.ID); files != 0 || n != 0 || len(linkDocuments(poor, q.ID)) != 0 {
			t.Fatalf("after a refusal: %d files %d bytes", files, n)
		}
		if r := uploadTo(a, q.URL, "fits.txt", bytes.Repeat([]byte("q"), 90), nil, nil); r.status != 201 {
			t.Fatalf("within quota: %d %s", r.status, r.body)
		}

		// Revocation (only the creator) and expiry.
		other.doJSON("DELETE", "/api/v1/upload-links/"+pw.ID, nil, 404, nil)
		teacher.doJSON("DELETE", "/api/v1/upload-links/"+pw.ID, nil, 204, nil)
		wantNotFound(t, "revoked", uploadTo(a, pw.URL, "c.txt", []byte("c"), map[string]string{"password": "letmein"}, nil))
		if _, err := a.db.SQL().Exec("UPDATE upload_links SET expires_at = ? WHERE id = ?", time.Now().UTC().Add(-time.Second), q.ID); err != nil {
			t.Fatal(err)
		}
		wantNotFound(t, "expired", uploadTo(a, q.URL, "d.txt", []byte("d"), nil, nil))
		wantNotFound(t, "unknown", a.anon().do("GET", "/u/nonsense", nil, nil))
	})
}

// TestUploadLinkLimitsAreExactAcrossInstances races uploads at a link
// through two instances: exactly max_files are stored.
func TestUploadLinkLimitsAreExactAcrossInstances(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	sharedRedisConfig(t, &cfg)
	a, b := startApp(t, cfg), startApp(t, cfg)
	_, teacher := setupDepartment(a, "Race", 0)
	const limit = 5
	l := createUploadLink(teacher, map[string]any{"title": "race", "expires_in_s": 600, "max_files": limit}, 201)
	var created, gone, other atomic.Int64
	var wg sync.WaitGroup
	for i := range 24 {
		app := a
		if i%2 == 1 {
			app = b
		}
		wg.Go(func() {
			body, ct := multipartBody(fmt.Sprintf("f%d.txt", i), []byte(fmt.Sprintf("file %d", i)), nil)
			req, _ := http.NewRequest("POST", app.srv.URL+l.URL, body)
			req.Header.Set("Content-Type", ct)
			res, err := app.srv.Client().Do(req)
			if err != nil {
				other.Add(1)
				return
			}
			res.Body.Close()
			switch res.StatusCode {
			case 201:
				created.Add(1)
			case 404:
				gone.Add(1)
			default:
				other.Add(1)
			}
		})
	}
	wg.Wait()
	docs := linkDocuments(teacher, l.ID)
	files, _ := linkCounts(teacher, l.ID)
	if created.Load() != limit || gone.Load()+other.Load() != 24-limit || len(docs) != limit || files != limit {
		t.Fatalf("201s %d, 404s %d, others %d, documents %d, counted %d; want exactly %d", created.Load(), gone.Load(), other.Load(), len(docs), files, limit)
	}
}

// TestUploadLinkCrashBetweenPhasesLosesNothing injects a failure at the
// steps of an upload link's three-phase commit: once decided, the link's
// counts match the documents stored through it, the department's usage
// matches its documents, and nothing stays reserved.
func TestUploadLinkCrashBetweenPhasesLosesNothing(t *testing.T) {
	steps := []string{"coord.after-cancommit", "coord.after-log-precommit", "coord.before-docommit", "coord.after-docommit",
		"documents.before-vote-persist", "documents.after-vote-persist", "documents.after-precommit-persist",
		"documents.before-commit-persist", "documents.after-commit-persist", "stats.after-vote-persist"}
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		for _, step := range steps {
			t.Run(step, func(t *testing.T) {
				t.Parallel()
				cfg := testConfig(t, b)
				cfg.TxnTimeout, cfg.TxnRecover = 300*time.Millisecond, 50*time.Millisecond
				a := startApp(t, cfg)
				dept, teacher := setupDepartment(a, "Crash", 10000)
				l := createUploadLink(teacher, map[string]any{"title": "crash", "expires_in_s": 600, "max_files": 2}, 201)
				fp := failpoint.Crash(t, txn.ErrCrash, a.owns, failpoint.TxnStep(step))
				r := uploadTo(a, l.URL, "crash.txt", bytes.Repeat([]byte("c"), 100), nil, nil)
				if len(fp.Fired()) == 0 {
					t.Fatalf("failpoint %s never fired", step)
				}
				if r.status != 201 && r.status != 503 {
					t.Fatalf("upload with a crash at %s: %d %s", step, r.status, r.body)
				}
				wait.For(t, wait.Limit, "every branch to be decided", func() bool { return a.inDoubt() == 0 })
				stored := linkDocuments(teacher, l.ID)
				files, n := linkCounts(teacher, l.ID)
				docs, used, reserved, statsDocs, statsBytes, adminBytes := a.usageEverywhere(dept)
				if int64(len(stored)) != files || n != 100*files || docs != files || docs != statsDocs || used != statsBytes || used != adminBytes || reserved != 0 {
					t.Fatalf("after a crash at %s: %d stored, link counts %d files %d bytes; documents %d (%d bytes), stats %d/%d (%d reserved), admin %d",
						step, len(stored), files, n, docs, used, statsDocs, statsBytes, reserved, adminBytes)
				}
				if r.status == 201 && len(stored) != 1 {
					t.Fatalf("an acknowledged upload was lost at %s", step)
				}
				// The link goes on, with what is left.
				if r := uploadTo(a, l.URL, "after.txt", []byte("after"), nil, nil); r.status != 201 {
					t.Fatalf("after the crash: %d %s", r.status, r.body)
				}
			})
		}
	})
}
