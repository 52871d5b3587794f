package sqlstore_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"docplat/accounts"
	"docplat/docs"
)

// sizedBody is a distinct content of exactly n bytes.
func sizedBody(label string, n int) string {
	s := label + " " + strings.Repeat("x", n)
	return s[:n]
}

func TestQuotaRefusesAnUploadThatWouldExceedIt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		dept := e.dept(t, "Small", 100)
		alice := e.user(t, "alice", accounts.RoleMember, dept)

		first := e.create(t, docSpec{Title: "first", Body: sizedBody("first", 60), Owner: alice.ID, Dept: dept})
		if first.Size != 60 {
			t.Fatalf("first document is %d bytes, want 60", first.Size)
		}
		if used := e.bytesUsed(t, dept); used != 60 {
			t.Fatalf("bytes_used = %d, want 60", used)
		}

		second, c, _ := e.document(t, docSpec{Title: "second", Body: sizedBody("second", 60), Tags: []string{"t"}, Owner: alice.ID, Dept: dept})
		if err := e.repo(t).Create(e.ctx, second, c); !errors.Is(err, docs.ErrQuota) {
			t.Fatalf("Create over quota: error = %v, want ErrQuota", err)
		}
		if n, v, tg := e.rowsOf(t, second.ID); n != 0 || v != 0 || tg != 0 {
			t.Fatalf("refused Create left %d document, %d version, %d tag rows", n, v, tg)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM document_versions WHERE sha256 = ?", c.Version.SHA256); n != 0 {
			t.Fatalf("refused Create left %d version rows for its blob", n)
		}
		if used := e.bytesUsed(t, dept); used != 60 {
			t.Fatalf("bytes_used after the refused upload = %d, want 60", used)
		}

		// The same limit holds for a new version of an existing document.
		c2, _ := e.newContent(t, sizedBody("v2", 41), "first-v2.txt", alice.ID)
		if _, err := e.repo(t).AddVersion(e.ctx, first.ID, noCheck, c2); !errors.Is(err, docs.ErrQuota) {
			t.Fatalf("AddVersion over quota: error = %v, want ErrQuota", err)
		}
		if _, v, _ := e.rowsOf(t, first.ID); v != 1 {
			t.Fatalf("refused AddVersion left %d version rows, want 1", v)
		}
		// Exactly filling the quota is allowed.
		c3, _ := e.newContent(t, sizedBody("v2", 40), "first-v2.txt", alice.ID)
		if _, err := e.repo(t).AddVersion(e.ctx, first.ID, noCheck, c3); err != nil {
			t.Fatalf("AddVersion up to the quota: %v", err)
		}
		if used := e.bytesUsed(t, dept); used != 100 {
			t.Fatalf("bytes_used = %d, want 100", used)
		}
	})
}

func TestQuotaHoldsUnderConcurrentUploads(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		const (
			quota   = 1000
			size    = 100
			uploads = 20
		)
		dept := e.dept(t, "Racing", quota)
		alice := e.user(t, "alice", accounts.RoleMember, dept)

		type upload struct {
			d docs.Document
			c docs.NewContent
		}
		ups := make([]upload, uploads)
		for i := range ups {
			d, c, _ := e.document(t, docSpec{Title: fmt.Sprintf("race %02d", i), Body: sizedBody(fmt.Sprintf("race %02d", i), size), Owner: alice.ID, Dept: dept})
			ups[i] = upload{d, c}
		}

		errs := make([]error, uploads)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, u := range ups {
			wg.Go(func() {
				<-start
				errs[i] = e.repo(t).Create(e.ctx, u.d, u.c)
			})
		}
		close(start)
		wg.Wait()

		var ok, refused int
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, docs.ErrQuota):
				refused++
			default:
				t.Errorf("upload %d: unexpected error %v", i, err)
			}
		}
		if ok != quota/size || refused != uploads-quota/size {
			t.Fatalf("%d uploads succeeded and %d were refused, want %d and %d", ok, refused, quota/size, uploads-quota/size)
		}
		if used := e.bytesUsed(t, dept); used != quota {
			t.Fatalf("bytes_used = %d, want %d", used, quota)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM documents WHERE department_id = ?", dept); n != int64(ok) {
			t.Fatalf("%d document rows, want %d", n, ok)
		}
		if n := e.count(t, "SELECT COALESCE(SUM(v.size), 0) FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE d.department_id = ?", dept); n != quota {
			t.Fatalf("stored versions sum to %d bytes, want %d", n, quota)
		}
	})
}
