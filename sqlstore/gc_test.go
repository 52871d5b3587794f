package sqlstore_test

import (
	"errors"
	"testing"
	"time"

	"docplat/accounts"
	"docplat/docs"
	"docplat/internal/failpoint"
)

var errCrash = errors.New("injected failure after publishing the blob")

// TestCrashAfterPublishLeavesOnlyACollectableBlob fails a content write
// (through the three-phase commit, the only write path) after the documents
// participant published its blob and before the transaction commits: no row
// may survive, and the orphaned file must be collectable.
func TestCrashAfterPublishLeavesOnlyACollectableBlob(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		dept := e.dept(t, "Engineering", 0)
		alice := e.user(t, "alice", accounts.RoleMember, dept)
		admin := docs.Actor{UserID: alice.ID, Admin: true}
		existing := e.create(t, docSpec{Title: "existing", Body: "existing body", Owner: alice.ID, Dept: dept})
		usedBefore := e.bytesUsed(t, dept)

		tests := []struct {
			name  string
			write func(t *testing.T, c docs.NewContent) (docID string, err error)
			// versions is how many version rows the document must have afterwards.
			versions int64
		}{
			{"Create", func(t *testing.T, c docs.NewContent) (string, error) {
				d, _, _ := e.document(t, docSpec{Title: "crashing", Tags: []string{"crash"}, Owner: alice.ID, Dept: dept})
				d.Size, d.SHA256 = c.Version.Size, c.Version.SHA256
				return d.ID, e.repo(t).Create(e.ctx, d, c)
			}, 0},
			{"AddVersion", func(_ *testing.T, c docs.NewContent) (string, error) {
				_, err := e.repo(t).AddVersion(e.ctx, existing.ID, noCheck, c)
				return existing.ID, err
			}, 1},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				body := "crash zeppelin content of " + tc.name
				c, _ := e.newContent(t, body, "crash.txt", alice.ID)
				sha := c.Version.SHA256
				published := false
				failpoint.Enable(t, failpoint.DocsAfterPublish, func(scope any) error {
					if scope != e.db {
						return nil // another test's database
					}
					published = e.blobExists(t, sha)
					return errCrash
				})
				id, err := tc.write(t, c)
				if !errors.Is(err, docs.ErrUnavailable) {
					t.Fatalf("%s error = %v, want ErrUnavailable (the documents participant failed)", tc.name, err)
				}
				if !published {
					t.Fatal("the failpoint was not reached with the blob published")
				}

				if _, v, _ := e.rowsOf(t, id); v != tc.versions {
					t.Fatalf("%d version rows, want %d", v, tc.versions)
				}
				if n := e.count(t, "SELECT COUNT(*) FROM documents WHERE sha256 = ?", sha); n != 0 {
					t.Fatalf("%d document rows reference the failed blob", n)
				}
				if n := e.count(t, "SELECT COUNT(*) FROM document_versions WHERE sha256 = ?", sha); n != 0 {
					t.Fatalf("%d version rows reference the failed blob", n)
				}
				if n := e.count(t, "SELECT COUNT(*) FROM document_tags WHERE tag = 'crash'"); n != 0 {
					t.Fatalf("%d tag rows left", n)
				}
				if n := e.count(t, "SELECT COUNT(*) FROM blobs WHERE sha256 = ?", sha); n != 0 {
					t.Fatalf("the blobs row of the failed write was committed")
				}
				if used := e.bytesUsed(t, dept); used != usedBefore {
					t.Fatalf("bytes_used = %d, want %d (the charge must roll back)", used, usedBefore)
				}
				if items, _ := e.list(t, admin, docs.Query{Terms: []string{"zeppelin"}, Sort: docs.SortRelevance}); len(items) != 0 {
					t.Fatalf("search finds the failed write: %v", ids(items))
				}
				if cur, err := e.db.Documents().Get(e.ctx, existing.ID); err != nil || cur.Version != 1 || cur.SHA256 != existing.SHA256 {
					t.Fatalf("existing document = %+v, %v; want it unchanged", cur, err)
				}
				if !e.blobExists(t, sha) {
					t.Fatal("the published blob file is missing")
				}

				removed := false
				collected, err := e.db.Documents().CollectBlob(e.ctx, sha, time.Now().Add(time.Minute), func() error {
					removed = true
					return e.blobs.Remove(sha)
				})
				if err != nil {
					t.Fatalf("CollectBlob: %v", err)
				}
				if !collected || !removed {
					t.Fatalf("CollectBlob(orphan) = %v (remove called: %v), want true", collected, removed)
				}
				if e.blobExists(t, sha) {
					t.Fatal("the orphaned blob file is still there")
				}
				if n := e.count(t, "SELECT COUNT(*) FROM blobs WHERE sha256 = ?", sha); n != 0 {
					t.Fatal("CollectBlob left a blobs row")
				}
			})
		}
	})
}

func TestCollectBlobKeepsReferencedBlobs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		alice := e.user(t, "alice", accounts.RoleMember, "")
		d := e.create(t, docSpec{Title: "kept", Body: "version one", Owner: alice.ID})
		c2, _ := e.newContent(t, "version two", "kept-2.txt", alice.ID)
		if _, err := e.repo(t).AddVersion(e.ctx, d.ID, noCheck, c2); err != nil {
			t.Fatalf("AddVersion: %v", err)
		}

		for _, tc := range []struct{ name, sha string }{
			{"current content", c2.Version.SHA256},
			{"an older version's content", d.SHA256},
		} {
			t.Run(tc.name, func(t *testing.T) {
				collected, err := e.db.Documents().CollectBlob(e.ctx, tc.sha, time.Now().Add(time.Hour), func() error {
					t.Error("remove called for a referenced blob")
					return e.blobs.Remove(tc.sha)
				})
				if err != nil || collected {
					t.Fatalf("CollectBlob = %v, %v; want false", collected, err)
				}
				if !e.blobExists(t, tc.sha) {
					t.Fatal("a referenced blob file was removed")
				}
				if n := e.count(t, "SELECT COUNT(*) FROM blobs WHERE sha256 = ?", tc.sha); n != 1 {
					t.Fatalf("%d blobs rows, want 1", n)
				}
			})
		}
	})
}

func TestCollectBlobSparesBlobsUsedAfterTheCutoff(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		alice := e.user(t, "alice", accounts.RoleMember, "")
		d := e.create(t, docSpec{Title: "short-lived", Owner: alice.ID})
		// Deleting the document leaves the blob unreferenced, last used at
		// the document's creation.
		if err := e.repo(t).Delete(e.ctx, d.ID, noCheck); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		remove := func() error { return e.blobs.Remove(d.SHA256) }

		collected, err := e.db.Documents().CollectBlob(e.ctx, d.SHA256, d.CreatedAt.Add(-time.Minute), remove)
		if err != nil || collected {
			t.Fatalf("CollectBlob(cutoff before last use) = %v, %v; want false", collected, err)
		}
		if !e.blobExists(t, d.SHA256) {
			t.Fatal("a blob used after the cutoff was removed")
		}

		collected, err = e.db.Documents().CollectBlob(e.ctx, d.SHA256, time.Now().Add(time.Minute), remove)
		if err != nil || !collected {
			t.Fatalf("CollectBlob(cutoff after last use) = %v, %v; want true", collected, err)
		}
		if e.blobExists(t, d.SHA256) {
			t.Fatal("the collected blob file is still there")
		}
	})
}

func TestCollectBlobKeepsFileWhenRemoveFails(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		alice := e.user(t, "alice", accounts.RoleMember, "")
		d := e.create(t, docSpec{Title: "unlucky", Owner: alice.ID})
		if err := e.repo(t).Delete(e.ctx, d.ID, noCheck); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		errRemove := errors.New("disk says no")
		collected, err := e.db.Documents().CollectBlob(e.ctx, d.SHA256, time.Now().Add(time.Minute), func() error { return errRemove })
		if !errors.Is(err, errRemove) || collected {
			t.Fatalf("CollectBlob = %v, %v; want false and the remove error", collected, err)
		}
		// The blob's row survives, so a later collection can retry.
		if n := e.count(t, "SELECT COUNT(*) FROM blobs WHERE sha256 = ?", d.SHA256); n != 1 {
			t.Fatalf("%d blobs rows after a failed remove, want 1", n)
		}
	})
}

func TestPurgeSearchOrphansSucceeds(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		alice := e.user(t, "alice", accounts.RoleMember, "")
		admin := docs.Actor{UserID: alice.ID, Admin: true}
		live := e.create(t, docSpec{Title: "live", Body: "orphanage survivor", Owner: alice.ID})

		var wantPurged int64
		if e.mariadb() {
			// Mroonga is not transactional: simulate the entry a rolled-back
			// transaction leaves behind, indexed long enough ago.
			_, err := e.db.SQL().ExecContext(e.ctx, `INSERT INTO document_search (document_id, title, tags, description, body, indexed_at)
				VALUES (?, 'ghost', '', '', 'orphanage ghost', ?)`, docs.NewID(), time.Now().UTC().Add(-time.Hour))
			if err != nil {
				t.Fatalf("insert orphan: %v", err)
			}
			// A fresh orphan may belong to a transaction still in flight.
			_, err = e.db.SQL().ExecContext(e.ctx, `INSERT INTO document_search (document_id, title, tags, description, body, indexed_at)
				VALUES (?, 'young', '', '', 'orphanage young', ?)`, docs.NewID(), time.Now().UTC())
			if err != nil {
				t.Fatalf("insert young orphan: %v", err)
			}
			wantPurged = 1
		}
		n, err := e.db.Documents().PurgeSearchOrphans(e.ctx)
		if err != nil {
			t.Fatalf("PurgeSearchOrphans: %v", err)
		}
		if n != wantPurged {
			t.Fatalf("PurgeSearchOrphans = %d, want %d", n, wantPurged)
		}
		items, _ := e.list(t, admin, docs.Query{Terms: []string{"orphanage"}, Sort: docs.SortRelevance})
		if got := ids(items); len(got) != 1 || got[0] != live.ID {
			t.Fatalf("search after purge = %v, want only the live document", got)
		}
		if e.mariadb() {
			if n := e.count(t, "SELECT COUNT(*) FROM document_search"); n != 2 {
				t.Fatalf("%d search entries left, want 2 (the live one and the young orphan)", n)
			}
		}
	})
}
