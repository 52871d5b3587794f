package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"docplat/internal/testdb"
	"docplat/internal/wait"
	"docplat/resumable"
)

// tusMetadata encodes Upload-Metadata: "key base64(value)" pairs.
func tusMetadata(md map[string]string) string {
	var parts []string
	for k, v := range md {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
	}
	return strings.Join(parts, ",")
}

// tusCreate starts an upload of size bytes; it returns the answer and the
// upload's path (from Location).
func (c *client) tusCreate(size int, md map[string]string) (response, string) {
	c.app.t.Helper()
	r := c.do("POST", "/api/v1/uploads/", nil, map[string]string{"Tus-Resumable": "1.0.0",
		"Upload-Length": strconv.Itoa(size), "Upload-Metadata": tusMetadata(md)})
	loc := r.header.Get("Location")
	if u, err := url.Parse(loc); err == nil {
		loc = u.Path
	}
	return r, loc
}

func (c *client) mustTusCreate(size int, md map[string]string) string {
	c.app.t.Helper()
	r, loc := c.tusCreate(size, md)
	if r.status != http.StatusCreated || !strings.HasPrefix(loc, "/api/v1/uploads/") {
		c.app.t.Fatalf("tus create: %d %s (Location %q)", r.status, r.body, loc)
	}
	return loc
}

func (c *client) tusPatch(loc string, offset int, body io.Reader) response {
	c.app.t.Helper()
	return c.do("PATCH", loc, body, map[string]string{"Tus-Resumable": "1.0.0",
		"Upload-Offset": strconv.Itoa(offset), "Content-Type": "application/offset+octet-stream"})
}

func (c *client) tusOffset(loc string) int {
	c.app.t.Helper()
	r := c.do("HEAD", loc, nil, map[string]string{"Tus-Resumable": "1.0.0"})
	if r.status != http.StatusOK {
		c.app.t.Fatalf("HEAD %s: %d", loc, r.status)
	}
	n, err := strconv.Atoi(r.header.Get("Upload-Offset"))
	if err != nil {
		c.app.t.Fatalf("HEAD %s: Upload-Offset %q", loc, r.header.Get("Upload-Offset"))
	}
	return n
}

type uploadState struct {
	ID         string          `json:"id"`
	State      string          `json:"state"`
	Size       int64           `json:"size"`
	Offset     int64           `json:"offset"`
	DocumentID string          `json:"document_id"`
	Error      json.RawMessage `json:"error"`
}

func (c *client) tusState(loc string) uploadState {
	c.app.t.Helper()
	var s uploadState
	c.doJSON("GET", loc, nil, 200, &s)
	return s
}

// brokenReader yields n bytes of b and then fails, as a connection that
// breaks mid-request does.
type brokenReader struct {
	b []byte
	n int
}

func (r *brokenReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("network broke")
	}
	k := copy(p, r.b[:min(len(r.b), r.n)])
	r.b, r.n = r.b[k:], r.n-k
	return k, nil
}

// interruptedPatch sends data from offset but breaks after n bytes.
func (c *client) interruptedPatch(loc string, offset int, data []byte, n int) {
	c.app.t.Helper()
	req, _ := http.NewRequest("PATCH", c.app.srv.URL+loc, &brokenReader{b: data, n: n})
	req.ContentLength = int64(len(data))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", strconv.Itoa(offset))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	if res, err := c.app.srv.Client().Do(req); err == nil {
		res.Body.Close()
		c.app.t.Fatalf("an interrupted PATCH was answered %d", res.StatusCode)
	}
}

func handout(n int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "第%d节 力学讲义 Newton's laws, page %d.\n", i, i)
	}
	return []byte(b.String()[:n])
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// tusFiles lists what the tus store holds.
func tusFiles(a *testApp) []string {
	entries, _ := os.ReadDir(resumable.Dir(a.cfg.Store.DB.DataDir))
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestResumableUploadResumesAfterABreak: an upload whose connection breaks
// mid-PATCH resumes from the offset HEAD gives, and becomes a document
// with the metadata it was created with and exactly the bytes sent; the
// final PATCH names the document; GET gives the outcome; the tus data is
// removed.
func TestResumableUploadResumesAfterABreak(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		_, member := setupDepartment(a, "Physics", 1<<20)
		data := handout(100_000)
		loc := member.mustTusCreate(len(data), map[string]string{"filename": "mechanics.txt", "title": "力学讲义",
			"tags": "physics, 力学", "visibility": "department", "description": "week 3"})
		if r := member.tusPatch(loc, 0, strings.NewReader(string(data[:30_000]))); r.status != http.StatusNoContent || r.header.Get("Upload-Offset") != "30000" {
			t.Fatalf("first PATCH: %d %s offset %q", r.status, r.body, r.header.Get("Upload-Offset"))
		}
		member.interruptedPatch(loc, 30_000, data[30_000:], 20_000)
		var offset int
		wait.For(t, wait.Limit, "the broken PATCH's bytes to be saved and its lock released", func() bool {
			r := member.do("HEAD", loc, nil, map[string]string{"Tus-Resumable": "1.0.0"})
			offset, _ = strconv.Atoi(r.header.Get("Upload-Offset"))
			return r.status == 200 && offset > 30_000
		})
		if offset > 50_000 {
			t.Fatalf("offset after the break = %d, more than was sent", offset)
		}
		if s := member.tusState(loc); s.State != "uploading" || s.Offset != int64(offset) || s.Size != int64(len(data)) {
			t.Fatalf("state while unfinished = %+v", s)
		}
		r := member.tusPatch(loc, offset, strings.NewReader(string(data[offset:])))
		if r.status != http.StatusNoContent || r.header.Get("Upload-Document-Id") == "" || r.header.Get("Upload-State") != "done" {
			t.Fatalf("final PATCH: %d %s %v", r.status, r.body, r.header)
		}
		id := r.header.Get("Upload-Document-Id")
		var d document
		member.doJSON("GET", "/api/v1/documents/"+id, nil, 200, &d)
		if d.SHA256 != sha(data) || d.Size != int64(len(data)) || d.Title != "力学讲义" || d.Visibility != "department" ||
			d.Description != "week 3" || strings.Join(d.Tags, ",") != "physics,力学" || !strings.HasPrefix(d.Mime, "text/plain") {
			t.Fatalf("document = %+v, want sha256 %s and the metadata sent", d, sha(data))
		}
		if got := member.do("GET", "/api/v1/documents/"+id+"/content", nil, nil); sha(got.body) != sha(data) {
			t.Fatal("the stored content differs from the bytes sent")
		}
		if s := member.tusState(loc); s.State != "done" || s.DocumentID != id || s.Offset != int64(len(data)) {
			t.Fatalf("state when done = %+v", s)
		}
		// A client whose final answer was lost asks HEAD: complete, not gone.
		h := member.do("HEAD", loc, nil, map[string]string{"Tus-Resumable": "1.0.0"})
		if h.status != 200 || h.header.Get("Upload-Offset") != strconv.Itoa(len(data)) || h.header.Get("Upload-Document-Id") != id {
			t.Fatalf("HEAD of a finished upload: %d %v", h.status, h.header)
		}
		if f := tusFiles(a); len(f) != 0 {
			t.Fatalf("tus store still holds %v after the upload was done", f)
		}
		if l := member.search("q=力学讲义"); len(l.Items) != 1 {
			t.Fatalf("search finds %v", ids(l))
		}
	})
}

// TestResumableUploadAcrossInstances: two instances share the database,
// Redis and the data directory. An upload started on A resumes on B from
// the offset B reports; two PATCHes to one upload at once, one on each
// instance, never both write: one waits out its lock and is refused 423
// (a tus client retries), and the document holds exactly the bytes sent.
func TestResumableUploadAcrossInstances(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	sharedRedisConfig(t, &cfg)
	a, b := startApp(t, cfg), startApp(t, cfg)
	_, onA := setupDepartment(a, "Chemistry", 1<<20)
	onB := &client{app: b, token: onA.token}
	data := handout(200_000)
	loc := onA.mustTusCreate(len(data), map[string]string{"filename": "chemistry.txt"})
	onA.interruptedPatch(loc, 0, data, 64_000)
	var offset int
	wait.For(t, wait.Limit, "B to see the bytes A received", func() bool {
		r := onB.do("HEAD", loc, nil, map[string]string{"Tus-Resumable": "1.0.0"})
		offset, _ = strconv.Atoi(r.header.Get("Upload-Offset"))
		return r.status == 200 && offset > 0
	})

	// A slow PATCH on A holds the upload; B's PATCH at the same offset is refused.
	pr, pw := io.Pipe()
	slow := make(chan response, 1)
	go func() { slow <- onA.tusPatch(loc, offset, pr) }()
	if _, err := pw.Write(data[offset : offset+1000]); err != nil {
		t.Fatal(err)
	}
	wait.For(t, wait.Limit, "A's PATCH to have written", func() bool {
		return onB.tusState(loc).Offset >= int64(offset+1000)
	})
	r := onB.tusPatch(loc, offset, strings.NewReader(string(data[offset:])))
	if r.status != http.StatusLocked || r.errorCode() != "conflict" {
		t.Fatalf("concurrent PATCH on B: %d %s, want 423 conflict", r.status, r.body)
	}
	go func() { _, _ = pw.Write(data[offset+1000 : offset+50_000]); pw.Close() }()
	if r := <-slow; r.status != http.StatusNoContent {
		t.Fatalf("A's PATCH: %d %s", r.status, r.body)
	}
	// The rest on B, from the offset B reports.
	if got := onB.tusOffset(loc); got != offset+50_000 {
		t.Fatalf("offset after A's PATCH = %d, want %d", got, offset+50_000)
	}
	offset += 50_000
	r = onB.tusPatch(loc, offset, strings.NewReader(string(data[offset:])))
	if r.status != http.StatusNoContent {
		t.Fatalf("final PATCH on B: %d %s", r.status, r.body)
	}
	var d document
	onA.doJSON("GET", "/api/v1/documents/"+r.header.Get("Upload-Document-Id"), nil, 200, &d)
	if d.SHA256 != sha(data) {
		t.Fatalf("sha256 %s, want %s: the bytes were not written once each in order", d.SHA256, sha(data))
	}
	if s := onA.tusState(loc); s.State != "done" || s.DocumentID != d.ID {
		t.Fatalf("A's view of the upload: %+v", s)
	}
}

// TestResumableUploadRefusals: what is refused, with the contract's error
// body, before or while the bytes are sent.
func TestResumableUploadRefusals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b, func(c *config) { c.Uploads.MaxUnfinished = 3 })
		dept, member := setupDepartment(a, "Biology", 1000)
		check := func(what string, r response, status int, code string) {
			t.Helper()
			if r.status != status || r.errorCode() != code {
				t.Fatalf("%s: %d %s, want %d %s", what, r.status, r.body, status, code)
			}
		}
		r, _ := a.anon().tusCreate(10, map[string]string{"filename": "a.txt"})
		check("anonymous", r, 401, "unauthorized")
		r, _ = member.tusCreate(int(a.cfg.Docs.MaxUploadBytes)+1, map[string]string{"filename": "big.txt"})
		check("over the size limit", r, 413, "too_large")
		r, _ = member.tusCreate(10, map[string]string{"filename": "../etc/passwd"})
		check("a path as file name", r, 400, "bad_request")
		r, _ = member.tusCreate(10, map[string]string{"filename": "a.txt", "visibility": "everyone"})
		check("a bad visibility", r, 400, "bad_request")
		r, _ = member.tusCreate(1001, map[string]string{"filename": "a.txt"})
		check("over the quota at creation", r, 409, "quota_exceeded")
		var q quotaRefusal
		if json.Unmarshal(r.body, &q); q.Error.Details == nil || q.Error.Details.DepartmentID != dept || q.Error.Details.Size != 1001 || q.Error.Details.QuotaBytes != 1000 {
			t.Fatalf("early quota refusal's figures: %s", r.body)
		}

		loc := member.mustTusCreate(10, map[string]string{"filename": "a.txt"})
		r = member.do("PATCH", loc, strings.NewReader("0123456789"), map[string]string{"Tus-Resumable": "1.0.0",
			"Upload-Offset": "0", "Content-Type": "text/plain"})
		check("PATCH with the wrong Content-Type", r, 415, "unsupported_type")
		check("PATCH at a wrong offset", member.tusPatch(loc, 5, strings.NewReader("56789")), 409, "conflict")
		check("PATCH past the length", member.tusPatch(loc, 0, strings.NewReader("0123456789AB")), 413, "too_large")
		if n := member.tusOffset(loc); n != 0 {
			t.Fatalf("offset after refused PATCHes = %d", n)
		}
		check("anonymous PATCH", a.anon().tusPatch(loc, 0, strings.NewReader("0123456789")), 401, "unauthorized")
		other := a.admin()
		check("someone else's upload", other.tusPatch(loc, 0, strings.NewReader("0123456789")), 404, "not_found")
		check("someone else's upload state", other.do("GET", loc, nil, nil), 404, "not_found")

		member.mustTusCreate(10, map[string]string{"filename": "b.txt"})
		member.mustTusCreate(10, map[string]string{"filename": "c.txt"})
		r, _ = member.tusCreate(10, map[string]string{"filename": "d.txt"})
		check("a fourth unfinished upload", r, 409, "conflict")
		// Cancelling one makes room.
		if r := member.do("DELETE", loc, nil, map[string]string{"Tus-Resumable": "1.0.0"}); r.status != 204 {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
		member.mustTusCreate(10, map[string]string{"filename": "d.txt"})
	})
}

// TestResumableUploadRefusedAtTheEnd: the early check is advice; the
// three-phase commit's quota vote decides when the last byte arrives. A
// refusal then leaves nothing stored (no document, no blob, the usage as
// it was, the tus data gone) and tells the client in the final PATCH and
// in GET; an unsupported type is refused the same way.
func TestResumableUploadRefusedAtTheEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		dept, member := setupDepartment(a, "Geology", 100)
		loc := member.mustTusCreate(50, map[string]string{"filename": "late.txt", "title": "late"})
		if r := member.tusPatch(loc, 0, strings.NewReader(strings.Repeat("x", 20))); r.status != 204 {
			t.Fatalf("PATCH: %d %s", r.status, r.body)
		}
		member.mustUpload("meanwhile.txt", strings.Repeat("m", 60), nil) // 60 + 50 > 100
		blobsBefore := a.countRows("blobs")
		r := member.tusPatch(loc, 20, strings.NewReader(strings.Repeat("y", 30)))
		if r.status != 409 || r.errorCode() != "quota_exceeded" {
			t.Fatalf("final PATCH over the quota: %d %s", r.status, r.body)
		}
		s := member.tusState(loc)
		var e struct{ Code string }
		_ = json.Unmarshal(s.Error, &e)
		if s.State != "failed" || e.Code != "quota_exceeded" || s.DocumentID != "" {
			t.Fatalf("state after the refusal = %+v", s)
		}
		if n := a.countRows("documents"); n != 1 {
			t.Fatalf("documents = %d, want only the plain upload", n)
		}
		// As for a plain upload, the aborted transaction's blob is
		// unreferenced and the collector removes it.
		if gc, err := withClock(a, 2*a.cfg.Docs.BlobGrace).CollectGarbage(t.Context()); err != nil || gc.Blobs != 1 {
			t.Fatalf("gc = %+v, %v", gc, err)
		}
		if n := a.countRows("blobs"); n != blobsBefore {
			t.Fatalf("blobs = %d, want %d", n, blobsBefore)
		}
		var usage struct {
			Items []struct {
				BytesUsed int64 `json:"bytes_used"`
			}
		}
		a.admin().doJSON("GET", "/api/v1/stats/departments?department_id="+dept, nil, 200, &usage)
		if len(usage.Items) != 1 || usage.Items[0].BytesUsed != 60 {
			t.Fatalf("usage after the refusal = %+v, want 60", usage)
		}
		if f := tusFiles(a); len(f) != 0 {
			t.Fatalf("tus store holds %v after the refusal", f)
		}
		if r := member.tusPatch(loc, 50, strings.NewReader("")); r.status != 409 || r.errorCode() != "quota_exceeded" {
			t.Fatalf("a PATCH after the refusal: %d %s", r.status, r.body)
		}

		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 22)...)
		loc = member.mustTusCreate(len(exe), map[string]string{"filename": "setup.exe"})
		if r := member.tusPatch(loc, 0, strings.NewReader(string(exe))); r.status != 415 || r.errorCode() != "unsupported_type" {
			t.Fatalf("an executable: %d %s", r.status, r.body)
		}
		if n := a.countRows("documents"); n != 1 {
			t.Fatalf("documents = %d after the executable", n)
		}
	})
}

// TestResumableUploadExpires: an unfinished upload past its expiry is gone
// for HEAD and PATCH (404), and the cleanup removes its data and record.
// The clock is stepped, not slept.
func TestResumableUploadExpires(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		var skew atomic.Int64
		a := newTestApp(t, b, func(c *config) {
			c.Uploads.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		})
		_, member := setupDepartment(a, "History", 1<<20)
		loc := member.mustTusCreate(100, map[string]string{"filename": "old.txt"})
		r := member.tusPatch(loc, 0, strings.NewReader(strings.Repeat("h", 40)))
		exp, err := http.ParseTime(r.header.Get("Upload-Expires"))
		if r.status != 204 || err != nil || exp.Sub(time.Now()) < 23*time.Hour || exp.Sub(time.Now()) > 25*time.Hour {
			t.Fatalf("PATCH: %d Upload-Expires %q", r.status, r.header.Get("Upload-Expires"))
		}
		kept := member.mustTusCreate(100, map[string]string{"filename": "kept.txt"})
		if n, err := a.uploads.Cleanup(context.Background()); err != nil || n != 0 {
			t.Fatalf("cleanup before the expiry: %d %v", n, err)
		}
		skew.Store(int64(24*time.Hour + time.Minute))
		if r := member.do("HEAD", loc, nil, map[string]string{"Tus-Resumable": "1.0.0"}); r.status != 404 {
			t.Fatalf("HEAD of an expired upload: %d", r.status)
		}
		if r := member.tusPatch(loc, 40, strings.NewReader(strings.Repeat("h", 60))); r.status != 404 || r.errorCode() != "not_found" ||
			!strings.Contains(string(r.body), "expired") {
			t.Fatalf("PATCH of an expired upload: %d %s", r.status, r.body)
		}
		if n, err := a.uploads.Cleanup(context.Background()); err != nil || n != 2 {
			t.Fatalf("cleanup after the expiry: %d %v, want both uploads", n, err)
		}
		if f := tusFiles(a); len(f) != 0 {
			t.Fatalf("tus store holds %v after the cleanup", f)
		}
		member.doJSON("GET", kept, nil, 404, nil)
		if n := a.countRows("resumable_uploads"); n != 0 {
			t.Fatalf("records left: %d", n)
		}
	})
}

// TestResumableUploadLeftProcessingIsResolvedAtItsExpiry: an upload whose
// finish stopped half way (its instance died: the record says processing)
// is settled by the expiry cleanup, without its owner asking: as done with
// its document when its commit happened (the commit mark under its key),
// as failed (expired, the data removed) when nothing was written. One
// still inside its expiry is left for its owner's next request.
func TestResumableUploadLeftProcessingIsResolvedAtItsExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		var skew atomic.Int64
		a := newTestApp(t, b, func(c *config) {
			c.Uploads.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		})
		_, member := setupDepartment(a, "Geography", 1<<20)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := a.db.SQL().ExecContext(context.Background(), q, args...); err != nil {
				t.Fatal(err)
			}
		}
		// Nothing written: all bytes but the last arrived, then the finish died.
		lost := member.mustTusCreate(100, map[string]string{"filename": "lost.txt"})
		if r := member.tusPatch(lost, 0, strings.NewReader(strings.Repeat("l", 99))); r.status != 204 {
			t.Fatalf("PATCH: %d %s", r.status, r.body)
		}
		lostID := path.Base(lost)
		exec("UPDATE resumable_uploads SET state = 'processing' WHERE id = ?", lostID)
		// Committed: the document exists and its commit mark is under the
		// upload's key, but the instance died before it recorded the answer.
		v := handout(300)
		done := member.mustTusCreate(len(v), map[string]string{"filename": "done.txt"})
		r := member.tusPatch(done, 0, strings.NewReader(string(v)))
		docID := r.header.Get("Upload-Document-Id")
		if r.status != 204 || docID == "" {
			t.Fatalf("PATCH: %d %s", r.status, r.body)
		}
		doneID := path.Base(done)
		exec("UPDATE resumable_uploads SET state = 'processing', document_id = NULL WHERE id = ?", doneID)
		exec("UPDATE idempotency_keys SET state = 'running' WHERE idem_key = ?", "tus:"+doneID)

		if n, err := a.uploads.Cleanup(context.Background()); err != nil || n != 0 {
			t.Fatalf("cleanup before the expiry: %d %v", n, err)
		}
		skew.Store(int64(24*time.Hour + time.Minute))
		if n, err := a.uploads.Cleanup(context.Background()); err != nil || n != 2 {
			t.Fatalf("cleanup after the expiry: %d %v, want both uploads settled", n, err)
		}
		type status struct {
			State      string          `json:"state"`
			DocumentID string          `json:"document_id"`
			Status     int             `json:"error_status"`
			Error      json.RawMessage `json:"error"`
		}
		var st status
		member.doJSON("GET", lost, nil, 200, &st)
		if st.State != "failed" || st.Status != 404 || !strings.Contains(string(st.Error), "expired") {
			t.Fatalf("the upload that wrote nothing: %+v (%s)", st, st.Error)
		}
		st = status{}
		member.doJSON("GET", done, nil, 200, &st)
		if st.State != "done" || st.DocumentID != docID {
			t.Fatalf("the committed upload: %+v, want done with %s", st, docID)
		}
		if f := tusFiles(a); len(f) != 0 {
			t.Fatalf("tus store holds %v after the cleanup", f)
		}
		if n := a.countRows("documents"); n != 1 {
			t.Fatalf("documents = %d, want the committed one only", n)
		}
		if n, err := a.uploads.Cleanup(context.Background()); err != nil || n != 0 {
			t.Fatalf("a second cleanup: %d %v", n, err)
		}
	})
}

// TestResumableNewVersion: a tus upload with document_id and if_match
// becomes the document's next version; a stale If-Match is refused 412 at
// creation, and at the end when the document changed while the bytes were
// on their way.
func TestResumableNewVersion(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		_, member := setupDepartment(a, "Maths", 1<<20)
		d := member.mustUpload("algebra.txt", "version one", nil)
		v2 := handout(5000)
		loc := member.mustTusCreate(len(v2), map[string]string{"filename": "algebra.txt", "document_id": d.ID, "if_match": fmt.Sprintf(`"r%d"`, d.Revision)})
		r := member.tusPatch(loc, 0, strings.NewReader(string(v2)))
		if r.status != 204 || r.header.Get("Upload-Document-Id") != d.ID {
			t.Fatalf("version PATCH: %d %s", r.status, r.body)
		}
		// The new version's text was read with it: the answer's revision
		// is the one to hold.
		var got document
		member.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, &got)
		if got.Version != 2 || got.SHA256 != sha(v2) || got.TextState != "ready" {
			t.Fatalf("after the tus version: %+v", got)
		}
		r, _ = member.tusCreate(10, map[string]string{"filename": "algebra.txt", "document_id": d.ID, "if_match": `"r1"`})
		if r.status != 412 || r.errorCode() != "precondition_failed" {
			t.Fatalf("a stale If-Match at creation: %d %s", r.status, r.body)
		}
		rev := fmt.Sprintf(`"r%d"`, got.Revision)
		loc = member.mustTusCreate(10, map[string]string{"filename": "algebra.txt", "document_id": d.ID, "if_match": rev})
		member.doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"title": "renamed meanwhile"}, 200, nil)
		if r := member.tusPatch(loc, 0, strings.NewReader("0123456789")); r.status != 412 || r.errorCode() != "precondition_failed" {
			t.Fatalf("a stale If-Match at the end: %d %s", r.status, r.body)
		}
		member.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, &got)
		if got.Version != 2 {
			t.Fatalf("version = %d after the refused one", got.Version)
		}
		reader := a.anon()
		r, _ = reader.tusCreate(10, map[string]string{"filename": "x.txt", "document_id": d.ID})
		if r.status != 401 {
			t.Fatalf("anonymous version: %d", r.status)
		}
	})
}

// TestResumableFinishRunsOnce: the final PATCH's commit fails (the
// coordinator cannot start the transaction): the client is told 503 with
// Retry-After and nothing is written. GET then finishes it, from both
// instances at once: exactly one document exists, and both answers name it.
func TestResumableFinishRunsOnce(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	sharedRedisConfig(t, &cfg)
	a, b := startApp(t, cfg), startApp(t, cfg)
	_, onA := setupDepartment(a, "Art", 1<<20)
	onB := &client{app: b, token: onA.token}
	data := handout(3000)
	loc := onA.mustTusCreate(len(data), map[string]string{"filename": "art.txt", "title": "once"})
	var failing atomic.Bool
	failing.Store(true)
	a.onStep(t, "coord.before-log-started", func(string) error {
		if failing.Load() {
			return errors.New("injected: the coordinator cannot log")
		}
		return nil
	})
	r := onA.tusPatch(loc, 0, strings.NewReader(string(data)))
	if r.status != 503 || r.errorCode() != "unavailable" || r.header.Get("Retry-After") == "" {
		t.Fatalf("final PATCH with the commit failing: %d %s", r.status, r.body)
	}
	if n := a.countRows("documents"); n != 0 {
		t.Fatalf("documents = %d after a failed commit", n)
	}
	failing.Store(false)
	var wg sync.WaitGroup
	states := make([]uploadState, 2)
	for i, c := range []*client{onA, onB} {
		wg.Go(func() {
			for deadline := time.Now().Add(wait.Limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				r := c.do("GET", loc, nil, nil)
				if r.status == 200 && json.Unmarshal(r.body, &states[i]) == nil && states[i].State == "done" {
					return
				}
			}
		})
	}
	wg.Wait()
	if states[0].DocumentID == "" || states[0].DocumentID != states[1].DocumentID {
		t.Fatalf("the instances disagree: %+v %+v", states[0], states[1])
	}
	if n := a.countRows("documents"); n != 1 {
		t.Fatalf("documents = %d, want one", n)
	}
	if f := tusFiles(a); len(f) != 0 {
		t.Fatalf("tus store holds %v", f)
	}
}
