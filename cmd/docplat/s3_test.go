package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"encoding/hex"

	"docplat/blob"
	"docplat/blob/blobtest"
	"docplat/blob/s3blob"
	"docplat/docs"
	"docplat/internal/testdb"
	"docplat/internal/testminio"
)

// TestS3BlobStore runs docplat on MariaDB with its blobs in MinIO: an
// upload lands in the bucket (nothing in the data directory) and reads
// back whole and by range; MinIO killed in the middle of a 24 MB streaming
// upload makes that upload answer 503 with Retry-After and /readyz name
// the blob store, leaving no row; once MinIO is back a retry succeeds.
func TestS3BlobStore(t *testing.T) {
	minio := testminio.Start(t)
	a := newTestApp(t, testdb.MariaDB, func(c *config) {
		c.Docs.MaxUploadBytes = 64 << 20
		c.Store.Blob = s3blob.Config{Endpoint: minio.Endpoint(), Bucket: "docplat", AccessKey: testminio.AccessKey,
			SecretKey: testminio.SecretKey, CreateBucket: true}
	})
	if a.blobs.Kind() != "s3" {
		t.Fatalf("blob store is %q", a.blobs.Kind())
	}
	admin := a.admin()
	small := textContent(200<<10, 1)
	r, d := admin.upload("small.txt", small, nil)
	if r.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	if got := admin.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil); got.status != 200 || !bytes.Equal(got.body, small) {
		t.Fatalf("content: %d, %d bytes", got.status, len(got.body))
	}
	if got := admin.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, map[string]string{"Range": "bytes=1000-1999"}); got.status != 206 || !bytes.Equal(got.body, small[1000:2000]) {
		t.Fatalf("range: %d, %d bytes", got.status, len(got.body))
	}
	if _, err := os.Stat(filepath.Join(a.cfg.Store.DB.DataDir, "blobs")); !os.IsNotExist(err) {
		t.Fatalf("the data directory has a blobs directory with S3 configured: %v", err)
	}

	big := textContent(24<<20, 2)
	r = streamUpload(t, admin, "big.txt", big, 8<<20, func() {
		if err := minio.Kill(); err != nil {
			t.Error(err)
		}
	})
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("upload with MinIO killed: %d (Retry-After %q) %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	var ready struct{ Failing []string }
	admin.doJSON("GET", "/readyz", nil, 503, &ready)
	if len(ready.Failing) != 1 || ready.Failing[0] != "blob store" {
		t.Fatalf("/readyz failing = %v", ready.Failing)
	}
	if n := a.countRows("documents"); n != 1 {
		t.Fatalf("documents = %d after the failed upload, want 1", n)
	}
	if got := admin.do("GET", "/api/v1/documents/"+d.ID+"/content?download=1", nil, nil); got.status != 503 && !(got.status == 200 && bytes.Equal(got.body, small)) {
		// Served from the content cache, or 503: never a 500.
		t.Fatalf("read with MinIO down: %d %s", got.status, got.body)
	}

	if err := minio.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for admin.do("GET", "/readyz", nil, nil).status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("not ready after MinIO restarted")
		}
		time.Sleep(200 * time.Millisecond)
	}
	r = streamUpload(t, admin, "big.txt", big, 0, nil)
	if r.status != http.StatusCreated {
		t.Fatalf("retried upload: %d %s", r.status, r.body)
	}
	var d2 document
	if err := json.Unmarshal(r.body, &d2); err != nil {
		t.Fatal(err)
	}
	got := admin.do("GET", "/api/v1/documents/"+d2.ID+"/content", nil, nil)
	if got.status != 200 || !bytes.Equal(got.body, big) {
		t.Fatalf("retried content: %d, %d bytes", got.status, len(got.body))
	}

	// The collector removes an unreferenced object from the bucket after
	// the grace period, and the interrupted upload's leftovers with it.
	admin.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
	admin.doJSON("DELETE", "/api/v1/trash/"+d.ID, nil, 204, nil)
	a.docs = withClock(a, 2*a.cfg.Docs.BlobGrace)
	gc, err := a.docs.CollectGarbage(t.Context())
	if err != nil || gc.Blobs != 1 {
		t.Fatalf("gc = %+v, %v", gc, err)
	}
	if _, err := a.blobs.Open(d.SHA256); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("collected object: %v", err)
	}
	if _, err := a.blobs.Open(d2.SHA256); err != nil {
		t.Fatalf("a referenced object: %v", err)
	}

	collectWhileReuploading(t, a, admin)
}

// collectWhileReuploading: the collector is deleting an unreferenced
// object, holding its blobs row lock, when the prepare of an upload of the
// same content runs (the documents participant's, on the real MariaDB and
// MinIO). The prepare cannot finish while the collector holds the lock;
// once the collector has removed the object and its row, the prepare,
// which would have skipped its copy had the object stayed, finds it gone
// and publishes its own staged object: the content is there.
func collectWhileReuploading(t *testing.T, a *testApp, admin *client) {
	content := textContent(50<<10, 3)
	r, d := admin.upload("again.txt", content, nil)
	if r.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	admin.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
	admin.doJSON("DELETE", "/api/v1/trash/"+d.ID, nil, 204, nil)
	st, err := a.blobs.Stage(bytes.NewReader(content), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(docs.DocumentChange{Op: docs.OpCreate, Document: docs.Document{ID: "reupload"},
		Version: &docs.Version{SHA256: st.SHA256, Size: st.Size, CreatedAt: time.Now().UTC()}, Staged: st.TempName()})
	if err != nil {
		t.Fatal(err)
	}

	holding, release := make(chan struct{}), make(chan struct{})
	collected := make(chan error, 1)
	go func() {
		removed, err := a.db.Documents().CollectBlob(context.Background(), d.SHA256, time.Now().Add(time.Hour), func() error {
			close(holding)
			<-release
			return errors.Join(a.blobs.RemoveDerived(d.SHA256), a.blobs.Remove(d.SHA256))
		})
		if err == nil && !removed {
			err = errors.New("the collector kept the blob")
		}
		collected <- err
	}()
	<-holding
	prepared := make(chan error, 1)
	go func() {
		p := a.db.DocsParticipant(a.blobs)
		prepared <- a.db.Gorm().Transaction(func(tx *gorm.DB) error {
			return p.Prepare(context.Background(), tx, "tx-reupload", payload)
		})
	}()
	select {
	case err := <-prepared:
		close(release)
		t.Fatalf("the prepare finished (%v) while the collector held the blob's row", err)
	case <-time.After(time.Second):
	}
	close(release)
	if err := <-collected; err != nil {
		t.Fatalf("collector: %v", err)
	}
	if err := <-prepared; err != nil {
		t.Fatalf("prepare after the collector: %v", err)
	}
	o, err := a.blobs.Open(d.SHA256)
	if err != nil {
		t.Fatalf("the re-uploaded content's object: %v", err)
	}
	defer o.Close()
	if got, err := io.ReadAll(o); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("the re-uploaded content: %d bytes, %v", len(got), err)
	}
	if n := a.countRows("blobs WHERE sha256 = '" + d.SHA256 + "'"); n != 1 {
		t.Fatalf("%d blobs rows for the re-uploaded content", n)
	}
}

// streamUpload posts content as a multipart upload written through a
// pipe, calling midway (if not nil) once after bytes have been sent.
func streamUpload(t *testing.T, c *client, filename string, content []byte, after int, midway func()) response {
	t.Helper()
	pr, pw := io.Pipe()
	w := multipart.NewWriter(pw)
	go func() {
		p, err := w.CreateFormFile("file", filename)
		for off := 0; err == nil && off < len(content); off += 256 << 10 {
			if midway != nil && off >= after {
				midway()
				midway = nil
			}
			_, err = p.Write(content[off:min(off+256<<10, len(content))])
		}
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", c.app.srv.URL+"/api/v1/documents", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.app.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	pr.CloseWithError(io.ErrClosedPipe)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// textContent is n bytes of hex text (an allowed type, unlike random bytes).
func textContent(n int, seed byte) []byte {
	return []byte(hex.EncodeToString(blobtest.Content(n/2, seed)))
}
