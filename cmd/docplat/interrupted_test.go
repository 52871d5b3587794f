package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"docplat/internal/failpoint"
	"docplat/internal/testdb"
	"docplat/internal/wait"
)

// TestInterruptedUploadLeavesNoRowAndNoVisibleBlob kills an upload half
// way (the client's connection drops mid-body) and checks that neither a
// row nor any file (published or staged) remains.
func TestInterruptedUploadLeavesNoRowAndNoVisibleBlob(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		token := a.admin().token
		conn, err := net.Dial("tcp", strings.TrimPrefix(a.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		const boundary = "cut-here"
		head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.txt\"\r\nContent-Type: text/plain\r\n\r\n"
		body := head + strings.Repeat("half of a long lecture handout\n", 20000)
		fmt.Fprintf(conn, "POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n", token, boundary, len(body)*2)
		if _, err := conn.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
		// Wait until the server has staged some of it, then cut the connection.
		wait.For(t, wait.Limit, "staging to start", func() bool { return countFiles(filepath.Join(a.cfg.Store.DB.DataDir, "blobs", "tmp")) > 0 })
		conn.Close()
		wait.For(t, wait.Limit, "the staged file to be removed", func() bool { return countFiles(filepath.Join(a.cfg.Store.DB.DataDir, "blobs")) == 0 })
		for _, table := range []string{"documents", "document_versions", "blobs"} {
			if n := a.countRows(table); n != 0 {
				t.Errorf("%s has %d rows after an interrupted upload", table, n)
			}
		}
	})
}

// TestFailureBetweenBlobAndRowLeavesNoOrphans injects a failure after the
// blob is published but before the transaction commits: no row exists, the
// blob is unreferenced and garbage collection removes it.
func TestFailureBetweenBlobAndRowLeavesNoOrphans(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		var armed atomic.Bool
		armed.Store(true)
		failpoint.Enable(t, failpoint.DocsAfterPublish, func(scope any) error {
			if scope == a.db && armed.Load() {
				return errors.New("injected crash after publication")
			}
			return nil
		})
		r, _ := admin.upload("doomed.txt", []byte("never committed"), nil)
		// The documents participant fails after publishing: no vote, the
		// transaction aborts, and the client is told to retry.
		if r.status != 503 || r.errorCode() != "unavailable" {
			t.Fatalf("upload with injected failure: %d %s", r.status, r.body)
		}
		armed.Store(false)
		for _, table := range []string{"documents", "document_versions", "document_tags"} {
			if n := a.countRows(table); n != 0 {
				t.Errorf("%s has %d rows after a failed commit", table, n)
			}
		}
		if n := countFiles(filepath.Join(a.cfg.Store.DB.DataDir, "blobs")); n != 1 {
			t.Fatalf("want the one published but unreferenced blob on disk, found %d files", n)
		}
		gc, err := withClock(a, 2*a.cfg.Docs.BlobGrace).CollectGarbage(t.Context())
		if err != nil || gc.Blobs != 1 {
			t.Fatalf("gc = %+v, %v", gc, err)
		}
		assertNoBlobFiles(t, a.cfg.Store.DB.DataDir)
		// The same content uploads fine afterwards (dedup does not resurrect a collected row).
		d := admin.mustUpload("again.txt", "never committed", nil)
		if got := admin.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil); !bytes.Equal(got.body, []byte("never committed")) {
			t.Fatalf("content after re-upload = %q", got.body)
		}
	})
}

func countFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}
