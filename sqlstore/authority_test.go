package sqlstore_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"docplat/accounts"
	"docplat/docs"
)

// TestReadRuleAgreesWithTheAuthority is the property test of the one
// authority: on random departments (with sub-departments), users of every
// role, documents of every visibility and grants (user and department,
// active and expired), some of them trashed and some trashed then
// restored, the SQL predicate of listings and of search returns exactly
// the documents docs.PermissionOf lets each user read, and the trash
// listing exactly those docs.MayManageTrashed lets each user manage, for
// every (user, document) pair. Documents are scheduled too (publish_at
// long past, at the second checked, a second later, an hour later), and
// each pair is checked a millisecond before that second, at it and a
// second after it: before publication only managers see a document, from
// the very second on everyone who may read it.
func TestReadRuleAgreesWithTheAuthority(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		for round := range 2 {
			seed := uint64(time.Now().UnixNano())
			t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) {
				t.Logf("seed %d", seed)
				checkReadRule(t, e, rand.New(rand.NewPCG(seed, uint64(round))), round)
			})
		}
	})
}

func checkReadRule(t *testing.T, e *env, rng *rand.Rand, round int) {
	now := time.Now().UTC()
	at := now.Truncate(time.Second).Add(2 * time.Second)
	schedules := []*time.Time{nil, nil, ptr(at.Add(-time.Hour)), ptr(at), ptr(at.Add(time.Second)), ptr(at.Add(time.Hour))}
	// Departments: each one's parent is an earlier one, or none.
	var depts []string
	for i := range 7 {
		id := e.dept(t, fmt.Sprintf("r%d-dept%d", round, i), 0)
		if i > 0 && rng.IntN(3) > 0 {
			parent := depts[rng.IntN(len(depts))]
			if err := e.db.Gorm().Exec("UPDATE departments SET parent_id = ? WHERE id = ?", parent, id).Error; err != nil {
				t.Fatal(err)
			}
		}
		depts = append(depts, id)
	}
	pickDept := func() string {
		if rng.IntN(6) == 0 {
			return ""
		}
		return depts[rng.IntN(len(depts))]
	}
	roles := []accounts.Role{accounts.RoleMember, accounts.RoleMember, accounts.RoleReader, accounts.RoleDeptAdmin, accounts.RoleAdmin}
	var users []accounts.User
	for i := range 14 {
		role, dept := roles[rng.IntN(len(roles))], pickDept()
		if role == accounts.RoleDeptAdmin && dept == "" {
			dept = depts[0]
		}
		users = append(users, e.user(t, fmt.Sprintf("r%d-user%d", round, i), role, dept))
	}
	visibilities := []docs.Visibility{docs.Private, docs.Department, docs.Public}
	perms := []docs.Permission{docs.PermRead, docs.PermWrite, docs.PermManage}
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	word := fmt.Sprintf("zebrafish%d", round)
	var ids []string
	for i := range 36 {
		owner := users[rng.IntN(len(users))]
		spec := docSpec{Title: fmt.Sprintf("doc %d", i), Body: fmt.Sprintf("%s body %d %s", word, i, accounts.NewID()),
			Visibility: visibilities[rng.IntN(len(visibilities))], Owner: owner.ID, Dept: pickDept()}
		// Half the schedules are set at creation, half by a metadata
		// change (each path writes the search index's copy).
		publishAt, late := schedules[rng.IntN(len(schedules))], rng.IntN(2) == 0
		if !late {
			spec.PublishAt = publishAt
		}
		d := e.create(t, spec)
		if late && publishAt != nil {
			if _, err := e.db.Documents().UpdateMeta(e.ctx, d.ID, func(docs.Document) error { return nil }, func(d *docs.Document) { d.PublishAt = publishAt }); err != nil {
				t.Fatalf("UpdateMeta(publish_at): %v", err)
			}
		}
		var grants []docs.Grant
		seen := map[string]bool{}
		for range rng.IntN(4) {
			var principal string
			if rng.IntN(2) == 0 {
				principal = docs.UserPrincipal + users[rng.IntN(len(users))].ID
			} else {
				principal = docs.DepartmentPrincipal + depts[rng.IntN(len(depts))]
			}
			if seen[principal] {
				continue
			}
			seen[principal] = true
			g := docs.Grant{Principal: principal, Permission: perms[rng.IntN(len(perms))], CreatedBy: owner.ID, CreatedAt: now}
			switch rng.IntN(3) {
			case 1:
				g.ExpiresAt = &past
			case 2:
				g.ExpiresAt = &future
			}
			grants = append(grants, g)
		}
		if len(grants) > 0 {
			_, err := e.db.Documents().UpdateMeta(e.ctx, d.ID, func(docs.Document) error { return nil }, func(d *docs.Document) { d.Grants = grants })
			if err != nil {
				t.Fatalf("UpdateMeta(grants): %v", err)
			}
		}
		ids = append(ids, d.ID)
	}
	// A third of them go to the trash, and every other one of those comes
	// back: chosen by position, not by chance, so that every world has
	// documents in the trash and restored ones (by chance, 1 round in 256
	// had all of its 8 restored).
	trashed, restored := 0, 0
	for i, id := range ids {
		if i%3 != 0 {
			continue
		}
		by := users[rng.IntN(len(users))].ID
		if err := e.repo(t).Trash(e.ctx, id, func(docs.Document) error { return nil }, docs.TrashMark{At: now, By: by, PurgeAt: now.Add(time.Hour)}); err != nil {
			t.Fatalf("Trash: %v", err)
		}
		trashed++
		if trashed%2 == 0 {
			if _, err := e.repo(t).Restore(e.ctx, id, func(docs.Document) error { return nil }); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			restored++
		}
	}
	stored := make([]docs.Document, len(ids))
	for i, id := range ids {
		d, err := e.db.Documents().Get(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		stored[i] = d
	}

	acc := accounts.NewService(e.db.Accounts(), accounts.Options{})
	actors := []docs.Actor{{}}
	for _, u := range users {
		line, err := acc.DepartmentLine(e.ctx, u.DepartmentID)
		if err != nil {
			t.Fatal(err)
		}
		actors = append(actors, docs.Actor{UserID: u.ID, DepartmentID: u.DepartmentID, Departments: line,
			Admin: u.Role == accounts.RoleAdmin, DeptAdmin: u.Role == accounts.RoleDeptAdmin, Reader: u.Role == accounts.RoleReader})
	}
	fallbacks := e.db.SearchFallbacks()
	byGrant, checkedPairs, hiddenUnpublished, managedUnpublished, hiddenByTrash, inTrash := 0, 0, 0, 0, 0, 0
	for _, a := range actors {
		var wantTrash []string
		for _, d := range stored {
			if docs.MayManageTrashed(a, d) {
				wantTrash = append(wantTrash, d.ID)
			}
		}
		slices.Sort(wantTrash)
		inTrash += len(wantTrash)
		items, _, err := e.db.Documents().ListTrash(e.ctx, docs.TrashScopeOf(a), "", 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		if got := onlyOf(ids, items); !slices.Equal(got, wantTrash) {
			t.Errorf("actor %+v, trash:\n SQL lists %v\n Go allows %v", a, got, wantTrash)
		}
	}
	for _, when := range []time.Time{at.Add(-time.Millisecond), at, at.Add(time.Second)} {
		for _, a := range actors {
			var want []string
			for _, d := range stored {
				p := docs.PermissionOf(a, d, when)
				if p >= docs.PermRead {
					want = append(want, d.ID)
					noGrants := d
					noGrants.Grants = nil
					if docs.PermissionOf(a, noGrants, when) < docs.PermRead {
						byGrant++
					}
				}
				if d.Trashed() {
					live := d
					live.DeletedAt = nil
					if docs.PermissionOf(a, live, when) >= docs.PermRead {
						hiddenByTrash++
					}
				}
				if !d.Published(when) {
					published := d
					published.PublishAt = nil
					switch {
					case p >= docs.PermRead:
						managedUnpublished++
					case docs.PermissionOf(a, published, when) >= docs.PermRead:
						hiddenUnpublished++
					}
				}
				checkedPairs++
			}
			slices.Sort(want)
			for _, q := range []docs.Query{{Sort: docs.SortCreated}, {Terms: []string{word}, Sort: docs.SortRelevance}} {
				items, total, err := e.db.Documents().ListAt(e.ctx, a, docs.Query{Terms: q.Terms, Sort: q.Sort, Page: 1, Size: 100}, when)
				if err != nil {
					t.Fatalf("ListAt: %v", err)
				}
				got := onlyOf(ids, items)
				if !slices.Equal(got, want) {
					t.Errorf("at %s, actor %+v, query %+v:\n SQL reads %v\n Go reads  %v", when.Format(time.RFC3339Nano), a, q, got, want)
				}
				if int(total) < len(got) {
					t.Errorf("actor %+v, query %+v: total %d < %d items", a, q, total, len(got))
				}
			}
		}
	}
	// A world where no unpublished document is hidden from a reader, or
	// none shown to its manager, would test the schedule for nothing.
	if hiddenUnpublished == 0 || managedUnpublished == 0 {
		t.Fatalf("unpublished documents: %d hidden from readers, %d shown to managers", hiddenUnpublished, managedUnpublished)
	}
	// A world where no read comes from a grant would test nothing new.
	if byGrant == 0 {
		t.Fatalf("no read came from a grant in %d pairs", checkedPairs)
	}
	// Ranked searches (MariaDB) filter trashed entries in the index: none
	// reaches the page read's SQL re-check and makes it fall back.
	if n := e.db.SearchFallbacks() - fallbacks; n != 0 {
		t.Errorf("%d ranked searches fell back to SQL: the index let a trashed or unreadable entry through", n)
	}
	// Nor would one where the trash hid nothing from anyone.
	if hiddenByTrash == 0 || inTrash == 0 {
		t.Fatalf("the trash hid nothing (%d pairs) or nobody may manage it (%d pairs): %d trashed, %d restored", hiddenByTrash, inTrash, trashed, restored)
	}
	t.Logf("%d (time, actor, document) triples agree, %d reads by grant, %d unpublished hidden, %d unpublished shown to managers, %d hidden by the trash, %d trash entries allowed (%d trashed, %d restored)",
		checkedPairs, byGrant, hiddenUnpublished, managedUnpublished, hiddenByTrash, inTrash, trashed, restored)
}

func ptr[T any](v T) *T { return &v }

// onlyOf keeps the sorted ids of items that are among ids (other rounds'
// documents share the database).
func onlyOf(ids []string, items []docs.Document) []string {
	var out []string
	for _, d := range items {
		if slices.Contains(ids, d.ID) {
			out = append(out, d.ID)
		}
	}
	slices.Sort(out)
	return out
}
