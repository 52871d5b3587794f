package sqlstore_test

import (
	"slices"
	"testing"
	"time"

	"docplat/accounts"
	"docplat/docs"
)

func TestListShowsEachActorExactlyWhatItMayRead(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		deptA := e.dept(t, "A", 0)
		deptB := e.dept(t, "B", 0)
		a1 := e.user(t, "a1", accounts.RoleMember, deptA)
		a2 := e.user(t, "a2", accounts.RoleMember, deptA)
		b1 := e.user(t, "b1", accounts.RoleMember, deptB)
		b2 := e.user(t, "b2", accounts.RoleMember, deptB)
		da := e.user(t, "da", accounts.RoleDeptAdmin, deptA)
		root := e.user(t, "root", accounts.RoleAdmin, "")

		byName := map[string]string{}
		idName := map[string]string{}
		for _, s := range []struct {
			name  string
			vis   docs.Visibility
			owner string
			dept  string
		}{
			{"A-private", docs.Private, a1.ID, deptA},
			{"A-department", docs.Department, a1.ID, deptA},
			{"A-public", docs.Public, a1.ID, deptA},
			{"B-public", docs.Public, b1.ID, deptB},
			{"B-private", docs.Private, b2.ID, deptB},
		} {
			d := e.create(t, docSpec{Title: s.name, Body: "zebra 共享 text of " + s.name, Visibility: s.vis, Owner: s.owner, Dept: s.dept})
			byName[s.name], idName[d.ID] = d.ID, s.name
		}

		actors := []struct {
			name  string
			actor docs.Actor
			want  []string
		}{
			{"anonymous", docs.Actor{}, []string{"A-public", "B-public"}},
			{"a1 (owner, member of A)", docs.Actor{UserID: a1.ID, DepartmentID: deptA}, []string{"A-private", "A-department", "A-public", "B-public"}},
			{"a2 (member of A)", docs.Actor{UserID: a2.ID, DepartmentID: deptA}, []string{"A-department", "A-public", "B-public"}},
			{"b1 (member of B)", docs.Actor{UserID: b1.ID, DepartmentID: deptB}, []string{"A-public", "B-public"}},
			{"dept_admin of A", docs.Actor{UserID: da.ID, DepartmentID: deptA, DeptAdmin: true}, []string{"A-private", "A-department", "A-public", "B-public"}},
			{"admin", docs.Actor{UserID: root.ID, Admin: true}, []string{"A-private", "A-department", "A-public", "B-public", "B-private"}},
		}
		queries := []struct {
			name string
			q    docs.Query
		}{
			{"listing", docs.Query{Sort: docs.SortCreated}},
			{"search for a word in every body", docs.Query{Terms: []string{"zebra"}, Sort: docs.SortRelevance}},
			{"search for a two-character CJK word in every body", docs.Query{Terms: []string{"共享"}, Sort: docs.SortRelevance}},
		}
		for _, q := range queries {
			for _, a := range actors {
				t.Run(q.name+"/"+a.name, func(t *testing.T) {
					items, total := e.list(t, a.actor, q.q)
					got := names(idName, ids(items))
					want := sorted(a.want...)
					if !slices.Equal(got, want) || total != int64(len(want)) {
						t.Fatalf("sees %v (total %d), want %v", got, total, want)
					}
				})
			}
		}
	})
}

func TestListFiltersSortsAndPaginates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		deptA := e.dept(t, "A", 0)
		deptB := e.dept(t, "B", 0)
		a1 := e.user(t, "a1", accounts.RoleMember, deptA)
		a2 := e.user(t, "a2", accounts.RoleMember, deptA)
		b1 := e.user(t, "b1", accounts.RoleMember, deptB)
		loner := e.user(t, "loner", accounts.RoleMember, "")
		admin := docs.Actor{UserID: a1.ID, Admin: true}

		base := time.Now().UTC().Truncate(time.Second)
		idName := map[string]string{}
		byName := map[string]string{}
		for i, s := range []struct {
			name  string
			owner string
			dept  string
			tags  []string
		}{
			// Created one minute apart, d1 oldest.
			{"d1", a1.ID, deptA, []string{"go", "db"}},
			{"d2", a1.ID, deptA, []string{"golang"}},
			{"d3", a2.ID, deptA, []string{"db"}},
			{"d4", b1.ID, deptB, []string{"go"}},
			{"d5", loner.ID, "", nil},
		} {
			d := e.create(t, docSpec{Title: s.name, Body: "common filler " + s.name, Tags: s.tags, Owner: s.owner, Dept: s.dept,
				Visibility: docs.Public, CreatedAt: base.Add(time.Duration(i-5) * time.Minute)})
			byName[s.name], idName[d.ID] = d.ID, s.name
		}

		counts := map[string]docs.Counts{
			byName["d1"]: {Views: 1, Downloads: 4},
			byName["d3"]: {Views: 5},
			byName["d5"]: {Views: 9, Downloads: 1},
		}
		if err := e.db.Documents().AddCounts(e.ctx, counts); err != nil {
			t.Fatalf("AddCounts: %v", err)
		}
		if err := e.db.Documents().AddCounts(e.ctx, map[string]docs.Counts{byName["d1"]: {Views: 1, Downloads: 3}}); err != nil {
			t.Fatalf("AddCounts: %v", err)
		}
		if d1, err := e.db.Documents().Get(e.ctx, byName["d1"]); err != nil || d1.Views != 2 || d1.Downloads != 7 {
			t.Fatalf("d1 counters = %d views, %d downloads (%v); want 2 and 7", d1.Views, d1.Downloads, err)
		}

		tests := []struct {
			name  string
			actor docs.Actor
			q     docs.Query
			want  []string // in order
			total int64
		}{
			{"newest first by default", admin, docs.Query{Sort: docs.SortCreated}, []string{"d5", "d4", "d3", "d2", "d1"}, 5},
			{"tag matches exactly, not as a prefix", admin, docs.Query{Tag: "go", Sort: docs.SortCreated}, []string{"d4", "d1"}, 2},
			{"tag of one document", admin, docs.Query{Tag: "golang", Sort: docs.SortCreated}, []string{"d2"}, 1},
			{"unknown tag", admin, docs.Query{Tag: "g", Sort: docs.SortCreated}, []string{}, 0},
			{"owner", admin, docs.Query{OwnerID: a1.ID, Sort: docs.SortCreated}, []string{"d2", "d1"}, 2},
			{"department", admin, docs.Query{DepartmentID: deptA, Sort: docs.SortCreated}, []string{"d3", "d2", "d1"}, 3},
			{"department and tag", admin, docs.Query{DepartmentID: deptA, Tag: "db", Sort: docs.SortCreated}, []string{"d3", "d1"}, 2},
			{"owner, tag and search term", admin, docs.Query{OwnerID: a1.ID, Tag: "go", Terms: []string{"filler"}, Sort: docs.SortRelevance}, []string{"d1"}, 1},
			{"filters apply to anonymous readers too", docs.Actor{}, docs.Query{DepartmentID: deptB, Sort: docs.SortCreated}, []string{"d4"}, 1},
			{"most viewed first, ties newest first", admin, docs.Query{Sort: docs.SortViews}, []string{"d5", "d3", "d1", "d4", "d2"}, 5},
			{"page 1 of 2", admin, docs.Query{Sort: docs.SortCreated, Page: 1, Size: 3}, []string{"d5", "d4", "d3"}, 5},
			{"page 2 has the rest", admin, docs.Query{Sort: docs.SortCreated, Page: 2, Size: 3}, []string{"d2", "d1"}, 5},
			{"past the last page", admin, docs.Query{Sort: docs.SortCreated, Page: 3, Size: 3}, []string{}, 5},
			{"views, page 2", admin, docs.Query{Sort: docs.SortViews, Page: 2, Size: 2}, []string{"d1", "d4"}, 5},
			{"search, page 2", admin, docs.Query{Terms: []string{"filler"}, Sort: docs.SortCreated, Page: 2, Size: 4}, []string{"d1"}, 5},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				items, total := e.list(t, tc.actor, tc.q)
				got := []string{}
				for _, d := range items {
					got = append(got, idName[d.ID])
				}
				if !slices.Equal(got, tc.want) || total != tc.total {
					t.Fatalf("List = %v (total %d), want %v (total %d)", got, total, tc.want, tc.total)
				}
			})
		}

		// Listed documents carry their tags and counters.
		items, _ := e.list(t, admin, docs.Query{Tag: "go", Sort: docs.SortCreated})
		for _, d := range items {
			if idName[d.ID] == "d1" && (!slices.Equal(d.Tags, []string{"db", "go"}) || d.Views != 2 || d.Downloads != 7) {
				t.Fatalf("listed d1 = tags %q, %d views, %d downloads; want [db go], 2, 7", d.Tags, d.Views, d.Downloads)
			}
		}
	})
}

func TestListTagFilterIgnoresCaseOnBothBackends(t *testing.T) {
	// Tags are case-insensitive in docs (normalizeTags drops "go" after "Go"),
	// and MariaDB's utf8mb4_unicode_ci compares them that way.
	forEachBackend(t, func(t *testing.T, e *env) {
		alice := e.user(t, "alice", accounts.RoleMember, "")
		d := e.create(t, docSpec{Title: "tagged", Tags: []string{"Go"}, Owner: alice.ID})
		for _, tag := range []string{"Go", "go", "GO"} {
			items, _ := e.list(t, docs.Actor{UserID: alice.ID, Admin: true}, docs.Query{Tag: tag, Sort: docs.SortCreated})
			if got := ids(items); !slices.Equal(got, []string{d.ID}) {
				t.Errorf("List(tag=%q) = %v, want the document tagged Go", tag, got)
			}
		}
	})
}
