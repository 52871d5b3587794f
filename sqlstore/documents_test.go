package sqlstore_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"docplat/accounts"
	"docplat/docs"
)

// assertDocument compares everything but counters, times and the snippet
// exactly, tags as a set, and times to within a second.
func assertDocument(t *testing.T, got, want docs.Document) {
	t.Helper()
	g, w := got, want
	g.Tags, w.Tags = sorted(g.Tags...), sorted(w.Tags...)
	g.CreatedAt, w.CreatedAt, g.UpdatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	g.Snippet, w.Snippet = "", ""
	if !slices.Equal(g.Tags, w.Tags) {
		t.Fatalf("tags = %q, want %q", got.Tags, want.Tags)
	}
	g.Tags, w.Tags = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("document =\n  %+v\nwant\n  %+v", got, want)
	}
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{{"CreatedAt", got.CreatedAt, want.CreatedAt}, {"UpdatedAt", got.UpdatedAt, want.UpdatedAt}} {
		if c.got.Sub(c.want).Abs() > time.Second {
			t.Fatalf("%s = %v, want %v", c.name, c.got, c.want)
		}
		if c.got.Location() != time.UTC {
			t.Fatalf("%s is in %v, want UTC", c.name, c.got.Location())
		}
	}
}

func assertVersion(t *testing.T, got, want docs.Version) {
	t.Helper()
	g, w := got, want
	g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
	g.DocumentID = w.DocumentID
	if g != w {
		t.Fatalf("version =\n  %+v\nwant\n  %+v", got, want)
	}
	if got.CreatedAt.Sub(want.CreatedAt).Abs() > time.Second {
		t.Fatalf("version CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
}

func TestDocumentsCreateThenGetRoundTripsEveryField(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		dept := e.dept(t, "Engineering", 0)
		alice := e.user(t, "alice", accounts.RoleMember, dept)
		noDept := e.user(t, "nodept", accounts.RoleMember, "")

		tests := []struct {
			name string
			spec docSpec
		}{
			{"in a department with tags", docSpec{Title: "设计说明 Design", Description: "第一版 — first draft",
				Tags: []string{"设计", "beta", "alpha"}, Visibility: docs.Department, Owner: alice.ID, Dept: dept}},
			{"without department or tags", docSpec{Title: "loose", Visibility: docs.Public, Owner: noDept.ID}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				want, c, _ := e.document(t, tc.spec)
				if err := e.repo(t).Create(e.ctx, want, c); err != nil {
					t.Fatalf("Create: %v", err)
				}
				got, err := e.db.Documents().Get(e.ctx, want.ID)
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if want.Tags == nil {
					want.Tags = []string{}
				}
				assertDocument(t, got, want)
				if got.Tags == nil {
					t.Fatal("Get returned nil Tags for a document without tags, want an empty slice")
				}

				vs, err := e.db.Documents().Versions(e.ctx, want.ID)
				if err != nil {
					t.Fatalf("Versions: %v", err)
				}
				if len(vs) != 1 {
					t.Fatalf("Versions = %d entries, want 1", len(vs))
				}
				assertVersion(t, vs[0], c.Version)
				v1, err := e.db.Documents().Version(e.ctx, want.ID, 1)
				if err != nil {
					t.Fatalf("Version(1): %v", err)
				}
				assertVersion(t, v1, c.Version)
				if !e.blobExists(t, c.Version.SHA256) {
					t.Fatal("Create did not publish the blob")
				}
			})
		}

		if _, err := e.db.Documents().Get(e.ctx, docs.NewID()); !errors.Is(err, docs.ErrNotFound) {
			t.Fatalf("Get(unknown) error = %v, want ErrNotFound", err)
		}
		if _, err := e.db.Documents().Version(e.ctx, docs.NewID(), 1); !errors.Is(err, docs.ErrNotFound) {
			t.Fatalf("Version(unknown) error = %v, want ErrNotFound", err)
		}
	})
}

func TestDocumentsAddVersionBumpsVersionAndKeepsHistory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		dept := e.dept(t, "Engineering", 0)
		alice := e.user(t, "alice", accounts.RoleMember, dept)
		first, c1, _ := e.document(t, docSpec{Title: "report", Body: "first content", Tags: []string{"q1"}, Owner: alice.ID, Dept: dept})
		if err := e.repo(t).Create(e.ctx, first, c1); err != nil {
			t.Fatalf("Create: %v", err)
		}

		c2, _ := e.newContent(t, "second, longer content", "report-v2.txt", alice.ID)
		c2.Version.Version = 0 // the repository numbers versions
		var seen docs.Document
		got, err := e.repo(t).AddVersion(e.ctx, first.ID, func(cur docs.Document) error {
			seen = cur
			return nil
		}, c2)
		if err != nil {
			t.Fatalf("AddVersion: %v", err)
		}
		if seen.ID != first.ID || seen.Version != 1 || seen.Revision != 1 {
			t.Fatalf("check saw %+v, want the current row (version 1, revision 1)", seen)
		}

		want := first
		want.Version, want.Revision = 2, 2
		want.Size, want.SHA256, want.Mime, want.Filename = c2.Version.Size, c2.Version.SHA256, c2.Version.Mime, c2.Version.Filename
		want.UpdatedAt = c2.Version.CreatedAt
		assertDocument(t, got, want)
		stored, err := e.db.Documents().Get(e.ctx, first.ID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		assertDocument(t, stored, want)

		vs, err := e.db.Documents().Versions(e.ctx, first.ID)
		if err != nil {
			t.Fatalf("Versions: %v", err)
		}
		if len(vs) != 2 {
			t.Fatalf("Versions = %+v, want 2 entries", vs)
		}
		wantV2 := c2.Version
		wantV2.Version = 2
		assertVersion(t, vs[0], wantV2) // newest first
		assertVersion(t, vs[1], c1.Version)

		v1, err := e.db.Documents().Version(e.ctx, first.ID, 1)
		if err != nil {
			t.Fatalf("Version(1): %v", err)
		}
		assertVersion(t, v1, c1.Version)
		if _, err := e.db.Documents().Version(e.ctx, first.ID, 3); !errors.Is(err, docs.ErrNotFound) {
			t.Fatalf("Version(3) error = %v, want ErrNotFound", err)
		}
		if used, want := e.bytesUsed(t, dept), c1.Version.Size+c2.Version.Size; used != want {
			t.Fatalf("bytes_used = %d, want %d (both versions)", used, want)
		}
	})
}

func TestDocumentsAddVersionVetoedByCheckChangesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		dept := e.dept(t, "Engineering", 0)
		alice := e.user(t, "alice", accounts.RoleMember, dept)
		before := e.create(t, docSpec{Title: "report", Owner: alice.ID, Dept: dept})
		used := e.bytesUsed(t, dept)

		c2, _ := e.newContent(t, "vetoed content", "v2.txt", alice.ID)
		_, err := e.repo(t).AddVersion(e.ctx, before.ID, func(docs.Document) error { return docs.ErrPrecondition }, c2)
		if !errors.Is(err, docs.ErrPrecondition) {
			t.Fatalf("AddVersion error = %v, want ErrPrecondition", err)
		}
		after, err := e.db.Documents().Get(e.ctx, before.ID)
		if err != nil {
			t.Fatal(err)
		}
		before.Tags = []string{}
		assertDocument(t, after, before)
		if _, v, _ := e.rowsOf(t, before.ID); v != 1 {
			t.Fatalf("%d version rows, want 1", v)
		}
		if got := e.bytesUsed(t, dept); got != used {
			t.Fatalf("bytes_used = %d, want %d", got, used)
		}
		if e.blobExists(t, c2.Version.SHA256) {
			t.Fatal("a vetoed AddVersion published its blob")
		}

		if _, err := e.repo(t).AddVersion(e.ctx, docs.NewID(), noCheck, c2); !errors.Is(err, docs.ErrNotFound) {
			t.Fatalf("AddVersion(unknown) error = %v, want ErrNotFound", err)
		}
	})
}

func TestDocumentsUpdateMetaVetoedByCheckLeavesRowUntouched(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		alice := e.user(t, "alice", accounts.RoleMember, "")
		before := e.create(t, docSpec{Title: "original", Description: "desc", Tags: []string{"keep"}, Owner: alice.ID})
		stored, err := e.db.Documents().Get(e.ctx, before.ID)
		if err != nil {
			t.Fatal(err)
		}

		changed := false
		_, err = e.db.Documents().UpdateMeta(e.ctx, before.ID,
			func(cur docs.Document) error {
				if cur.Revision != 1 {
					t.Errorf("check saw revision %d, want 1", cur.Revision)
				}
				return docs.ErrPrecondition
			},
			func(d *docs.Document) {
				changed = true
				d.Title, d.Tags, d.Visibility = "changed", []string{"other"}, docs.Public
			})
		if !errors.Is(err, docs.ErrPrecondition) {
			t.Fatalf("UpdateMeta error = %v, want ErrPrecondition", err)
		}
		if changed {
			t.Fatal("UpdateMeta applied change although check vetoed it")
		}
		after, err := e.db.Documents().Get(e.ctx, before.ID)
		if err != nil {
			t.Fatal(err)
		}
		assertDocument(t, after, before)
		if !after.UpdatedAt.Equal(stored.UpdatedAt) {
			t.Fatalf("UpdatedAt moved from %v to %v", stored.UpdatedAt, after.UpdatedAt)
		}

		_, err = e.db.Documents().UpdateMeta(e.ctx, docs.NewID(), noCheck, func(*docs.Document) {})
		if !errors.Is(err, docs.ErrNotFound) {
			t.Fatalf("UpdateMeta(unknown) error = %v, want ErrNotFound", err)
		}
	})
}

func TestDocumentsUpdateMetaReplacesTagsAndBumpsRevision(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		alice := e.user(t, "alice", accounts.RoleMember, "")
		admin := docs.Actor{UserID: alice.ID, Admin: true}
		before := e.create(t, docSpec{Title: "original title", Body: "unchanged searchable body", Tags: []string{"old", "keep"}, Owner: alice.ID})

		got, err := e.db.Documents().UpdateMeta(e.ctx, before.ID, noCheck, func(d *docs.Document) {
			d.Title = "renamed title"
			d.Description = "new description"
			d.Visibility = docs.Public
			d.Tags = []string{"keep", "new"}
		})
		if err != nil {
			t.Fatalf("UpdateMeta: %v", err)
		}
		want := before
		want.Title, want.Description, want.Visibility, want.Tags, want.Revision = "renamed title", "new description", docs.Public, []string{"keep", "new"}, 2
		want.UpdatedAt = time.Now().UTC()
		assertDocument(t, got, want)
		stored, err := e.db.Documents().Get(e.ctx, before.ID)
		if err != nil {
			t.Fatal(err)
		}
		assertDocument(t, stored, want)
		if stored.Version != 1 {
			t.Fatalf("metadata change bumped the content version to %d", stored.Version)
		}
		if _, _, n := e.rowsOf(t, before.ID); n != 2 {
			t.Fatalf("%d tag rows, want 2", n)
		}

		for _, tc := range []struct {
			tag  string
			want []string
		}{{"new", []string{before.ID}}, {"keep", []string{before.ID}}, {"old", []string{}}} {
			items, _ := e.list(t, admin, docs.Query{Tag: tc.tag})
			if got := ids(items); !slices.Equal(got, tc.want) {
				t.Errorf("List(tag=%q) = %v, want %v", tc.tag, got, tc.want)
			}
		}
		// The search entry follows the metadata and keeps the body.
		for _, terms := range [][]string{{"renamed"}, {"searchable"}, {"renamed", "searchable"}} {
			items, _ := e.list(t, admin, docs.Query{Terms: terms, Sort: docs.SortRelevance})
			if got := ids(items); !slices.Equal(got, []string{before.ID}) {
				t.Errorf("search %q after UpdateMeta = %v, want the document", terms, got)
			}
		}
		if items, _ := e.list(t, admin, docs.Query{Terms: []string{"original"}}); len(items) != 0 {
			t.Errorf("search for the old title still finds %v", ids(items))
		}
	})
}

func TestDocumentsUpdateMetaPersistsTagsEditedInPlace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		alice := e.user(t, "alice", accounts.RoleMember, "")
		d := e.create(t, docSpec{Title: "doc", Tags: []string{"draft"}, Owner: alice.ID})
		got, err := e.db.Documents().UpdateMeta(e.ctx, d.ID, noCheck, func(d *docs.Document) { d.Tags[0] = "final" })
		if err != nil {
			t.Fatalf("UpdateMeta: %v", err)
		}
		if !slices.Equal(got.Tags, []string{"final"}) {
			t.Fatalf("UpdateMeta returned tags %q, want [final]", got.Tags)
		}
		stored, err := e.db.Documents().Get(e.ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(stored.Tags, []string{"final"}) {
			t.Fatalf("stored tags = %q, want [final] as UpdateMeta returned", stored.Tags)
		}
	})
}

func TestDocumentsDeleteRemovesEverythingAndReturnsQuota(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		dept := e.dept(t, "Engineering", 1000)
		alice := e.user(t, "alice", accounts.RoleMember, dept)
		admin := docs.Actor{UserID: alice.ID, Admin: true}
		d := e.create(t, docSpec{Title: "doomed", Body: "perishable words", Tags: []string{"a", "b"}, Owner: alice.ID, Dept: dept})
		c2, _ := e.newContent(t, "perishable second version", "doomed-2.txt", alice.ID)
		if _, err := e.repo(t).AddVersion(e.ctx, d.ID, noCheck, c2); err != nil {
			t.Fatalf("AddVersion: %v", err)
		}
		keep := e.create(t, docSpec{Title: "survivor", Body: "perishable survivor", Owner: alice.ID, Dept: dept})
		if used, want := e.bytesUsed(t, dept), d.Size+c2.Version.Size+keep.Size; used != want {
			t.Fatalf("bytes_used before delete = %d, want %d", used, want)
		}

		// A vetoed delete changes nothing.
		if err := e.repo(t).Delete(e.ctx, d.ID, func(docs.Document) error { return docs.ErrForbidden }); !errors.Is(err, docs.ErrForbidden) {
			t.Fatalf("vetoed Delete error = %v, want ErrForbidden", err)
		}
		if n, v, tg := e.rowsOf(t, d.ID); n != 1 || v != 2 || tg != 2 {
			t.Fatalf("after a vetoed delete: %d document, %d version, %d tag rows; want 1, 2, 2", n, v, tg)
		}

		if err := e.repo(t).Delete(e.ctx, d.ID, noCheck); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if n, v, tg := e.rowsOf(t, d.ID); n != 0 || v != 0 || tg != 0 {
			t.Fatalf("after delete: %d document, %d version, %d tag rows; want none", n, v, tg)
		}
		if _, err := e.db.Documents().Get(e.ctx, d.ID); !errors.Is(err, docs.ErrNotFound) {
			t.Fatalf("Get after delete error = %v, want ErrNotFound", err)
		}
		if vs, err := e.db.Documents().Versions(e.ctx, d.ID); err != nil || len(vs) != 0 {
			t.Fatalf("Versions after delete = %v, %v; want none", vs, err)
		}
		if used := e.bytesUsed(t, dept); used != keep.Size {
			t.Fatalf("bytes_used after delete = %d, want %d (only the survivor)", used, keep.Size)
		}
		items, _ := e.list(t, admin, docs.Query{Terms: []string{"perishable"}, Sort: docs.SortRelevance})
		if got := ids(items); !slices.Equal(got, []string{keep.ID}) {
			t.Fatalf("search after delete = %v, want only the survivor %s", got, keep.ID)
		}

		if err := e.repo(t).Delete(e.ctx, keep.ID, noCheck); err != nil {
			t.Fatalf("Delete survivor: %v", err)
		}
		if used := e.bytesUsed(t, dept); used != 0 {
			t.Fatalf("bytes_used after deleting everything = %d, want 0", used)
		}
		if err := e.repo(t).Delete(e.ctx, d.ID, noCheck); !errors.Is(err, docs.ErrNotFound) {
			t.Fatalf("second Delete error = %v, want ErrNotFound", err)
		}
	})
}
