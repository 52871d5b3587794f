package sqlstore_test

import (
	"slices"
	"testing"
	"time"

	"docplat/accounts"
	"docplat/docs"
)

// noFallback fails when a MariaDB search was answered by the SQL form: the
// Groonga path must answer these by itself.
func noFallback(t *testing.T, e *env) {
	t.Helper()
	if n := e.db.SearchFallbacks(); e.mariadb() && n != 0 {
		t.Fatalf("%d searches fell back to SQL; the index should have answered them", n)
	}
}

func TestSearchFiltersByPermissionFromTheIndex(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		deptA := e.dept(t, "A", 0)
		deptB := e.dept(t, "B", 0)
		a1 := e.user(t, "a1", accounts.RoleMember, deptA)
		a2 := e.user(t, "a2", accounts.RoleMember, deptA)
		b1 := e.user(t, "b1", accounts.RoleMember, deptB)
		loner := e.user(t, "loner", accounts.RoleMember, "")
		da := e.user(t, "da", accounts.RoleDeptAdmin, deptA)
		idName := map[string]string{}
		byName := map[string]string{}
		for _, s := range []struct {
			name  string
			vis   docs.Visibility
			owner string
			dept  string
		}{
			{"A-private", docs.Private, a1.ID, deptA},
			{"A-department", docs.Department, a1.ID, deptA},
			{"A-public", docs.Public, a1.ID, deptA},
			{"B-department", docs.Department, b1.ID, deptB},
			{"loner-private", docs.Private, loner.ID, ""},
			{"loner-public", docs.Public, loner.ID, ""},
		} {
			d := e.create(t, docSpec{Title: s.name, Body: "quokka 袋鼠 notes of " + s.name, Visibility: s.vis, Owner: s.owner, Dept: s.dept})
			idName[d.ID], byName[s.name] = s.name, d.ID
		}
		check := func(t *testing.T, who string, a docs.Actor, q docs.Query, want ...string) {
			t.Helper()
			q.Sort = docs.SortRelevance
			items, total := e.list(t, a, q)
			got := names(idName, ids(items))
			if w := sorted(want...); !slices.Equal(got, w) || total != int64(len(w)) {
				t.Errorf("%s searching %q sees %v (total %d), want %v", who, q.Terms, got, total, w)
			}
		}
		for _, terms := range [][]string{{"quokka"}, {"袋鼠"}, {"quokka", "notes"}} {
			q := docs.Query{Terms: terms}
			check(t, "anonymous", docs.Actor{}, q, "A-public", "loner-public")
			check(t, "a1", docs.Actor{UserID: a1.ID, DepartmentID: deptA}, q, "A-private", "A-department", "A-public", "loner-public")
			check(t, "a2", docs.Actor{UserID: a2.ID, DepartmentID: deptA}, q, "A-department", "A-public", "loner-public")
			check(t, "b1", docs.Actor{UserID: b1.ID, DepartmentID: deptB}, q, "A-public", "B-department", "loner-public")
			check(t, "loner (no department)", docs.Actor{UserID: loner.ID}, q, "A-public", "loner-private", "loner-public")
			check(t, "dept_admin of A", docs.Actor{UserID: da.ID, DepartmentID: deptA, DeptAdmin: true}, q, "A-private", "A-department", "A-public", "loner-public")
			check(t, "admin", docs.Actor{UserID: da.ID, Admin: true}, q, "A-private", "A-department", "A-public", "B-department", "loner-private", "loner-public")
		}
		// Filters of the query itself.
		admin := docs.Actor{UserID: da.ID, Admin: true}
		check(t, "admin, owner filter", admin, docs.Query{Terms: []string{"quokka"}, OwnerID: loner.ID}, "loner-private", "loner-public")
		check(t, "admin, department filter", admin, docs.Query{Terms: []string{"quokka"}, DepartmentID: deptB}, "B-department")

		// A visibility change reaches the index with the document.
		for name, vis := range map[string]docs.Visibility{"A-public": docs.Private, "A-private": docs.Public} {
			if _, err := e.db.Documents().UpdateMeta(e.ctx, byName[name], noCheck, func(d *docs.Document) { d.Visibility = vis }); err != nil {
				t.Fatalf("UpdateMeta(%s): %v", name, err)
			}
		}
		check(t, "anonymous after the changes", docs.Actor{}, docs.Query{Terms: []string{"quokka"}}, "A-private", "loner-public")
		check(t, "a2 after the changes", docs.Actor{UserID: a2.ID, DepartmentID: deptA}, docs.Query{Terms: []string{"quokka"}}, "A-private", "A-department", "loner-public")
		noFallback(t, e)
	})
}

func TestSearchPaginatesRankedResultsInOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.user(t, "owner", accounts.RoleMember, "")
		base := time.Now().UTC().Truncate(time.Second)
		var all []string
		for i := range 7 {
			// Same text, so the same score: newer first, then by id.
			d := e.create(t, docSpec{Title: "page", Body: "wombat burrow", Visibility: docs.Public, Owner: owner.ID, CreatedAt: base.Add(time.Duration(i) * time.Minute)})
			all = append([]string{d.ID}, all...)
		}
		var got []string
		for page := 1; page <= 3; page++ {
			items, total, err := e.db.Documents().List(e.ctx, docs.Actor{}, docs.Query{Terms: []string{"wombat"}, Sort: docs.SortRelevance, Page: page, Size: 3})
			if err != nil || total != 7 {
				t.Fatalf("page %d: total %d, err %v", page, total, err)
			}
			for _, d := range items {
				got = append(got, d.ID)
			}
		}
		if !slices.Equal(got, all) {
			t.Fatalf("pages = %v, want newest first %v", got, all)
		}
		noFallback(t, e)
	})
}

// A stale index entry (its document's transaction rolled back after the
// non-transactional Mroonga write) is never shown: the page is answered by
// the SQL form, which joins documents.
func TestSearchStaleIndexEntryIsNotShown(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		if !e.mariadb() {
			t.Skip("FTS5 is transactional: SQLite has no stale entries")
		}
		owner := e.user(t, "owner", accounts.RoleMember, "")
		real := e.create(t, docSpec{Title: "real", Body: "platypus eggs", Visibility: docs.Public, Owner: owner.ID})
		if _, err := e.db.SQL().ExecContext(e.ctx, `REPLACE INTO document_search (document_id, title, tags, description, body, indexed_at, visibility, owner_id, department_id, created_at)
			VALUES (?, 'ghost', '', '', 'platypus ghost', ?, 'public', ?, '', ?)`, docs.NewID(), time.Now().UTC(), owner.ID, time.Now().UTC().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		items, total := e.list(t, docs.Actor{}, docs.Query{Terms: []string{"platypus"}, Sort: docs.SortRelevance})
		if got := ids(items); !slices.Equal(got, []string{real.ID}) || total != 1 {
			t.Fatalf("search = %v (total %d), want only the real document", got, total)
		}
		if e.db.SearchFallbacks() != 1 {
			t.Fatalf("SearchFallbacks = %d, want 1", e.db.SearchFallbacks())
		}
	})
}

// Terms reach Groonga inside two layers of quoting (its command line and its
// query syntax); quotes and backslashes in a term stay literal.
func TestSearchTermsWithQuotesAndBackslashesAreLiteral(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.user(t, "owner", accounts.RoleMember, "")
		d := e.create(t, docSpec{Title: "quoting", Body: `it's a "quoted" path C:\temp\x and 'single' OR -minus`, Visibility: docs.Public, Owner: owner.ID})
		for _, terms := range [][]string{{"it's"}, {`"quoted"`}, {`c:\temp\x`}, {"'single'", "or"}, {"-minus"}} {
			items, total := e.list(t, docs.Actor{}, docs.Query{Terms: terms, Sort: docs.SortRelevance})
			if got := ids(items); !slices.Equal(got, []string{d.ID}) || total != 1 {
				t.Errorf("search %q = %v (total %d), want the document", terms, got, total)
			}
		}
		for _, terms := range [][]string{{`it\'s`}, {`"quoted`, "nothere"}, {`') OR ('1'='1`}} {
			if items, total := e.list(t, docs.Actor{}, docs.Query{Terms: terms, Sort: docs.SortRelevance}); len(items) != 0 || total != 0 {
				t.Errorf("search %q = %v (total %d), want nothing", terms, ids(items), total)
			}
		}
		noFallback(t, e)
	})
}
