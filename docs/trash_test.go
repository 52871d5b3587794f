package docs

import (
	"testing"
	"time"
)

// TestTrashIsNobodysToReadAndItsManagersToRestore: a trashed document is
// PermNone to everyone, admins included; restoring and purging it is for
// its owner, the dept_admins of its department and admins, never for a
// grant holder (even one with manage), a reader, another department's
// dept_admin or an anonymous caller. TrashScopeOf says the same in the
// form the trash listing's SQL is built from.
func TestTrashIsNobodysToReadAndItsManagersToRestore(t *testing.T) {
	now := time.Now().UTC()
	purge := now.Add(time.Hour)
	d := Document{ID: "d", OwnerID: "owner", DepartmentID: "A", Visibility: Public, DeletedAt: &now, DeletedBy: "owner", PurgeAt: &purge,
		Grants: []Grant{{Principal: UserPrincipal + "granted", Permission: PermManage}}}
	live := d
	live.DeletedAt, live.PurgeAt = nil, nil
	actors := []struct {
		name    string
		a       Actor
		restore bool
	}{
		{"anonymous", Actor{}, false},
		{"owner", Actor{UserID: "owner", DepartmentID: "A"}, true},
		{"owner as reader", Actor{UserID: "owner", DepartmentID: "A", Reader: true}, false},
		{"admin", Actor{UserID: "root", Admin: true}, true},
		{"dept_admin of A", Actor{UserID: "boss", DepartmentID: "A", DeptAdmin: true}, true},
		{"dept_admin of B", Actor{UserID: "other-boss", DepartmentID: "B", DeptAdmin: true}, false},
		{"member of A", Actor{UserID: "colleague", DepartmentID: "A"}, false},
		{"manage grantee", Actor{UserID: "granted", DepartmentID: "B"}, false},
	}
	for _, c := range actors {
		if p := PermissionOf(c.a, d, now); p != PermNone {
			t.Errorf("%s: %v on a trashed document, want none", c.name, p)
		}
		if got := MayManageTrashed(c.a, d); got != c.restore {
			t.Errorf("%s: MayManageTrashed = %v, want %v", c.name, got, c.restore)
		}
		if MayManageTrashed(c.a, live) {
			t.Errorf("%s: MayManageTrashed of a document not in the trash", c.name)
		}
		s := TrashScopeOf(c.a)
		inScope := !s.None && (s.All || d.OwnerID == s.UserID || s.Department != "" && d.DepartmentID == s.Department)
		if inScope != c.restore {
			t.Errorf("%s: TrashScopeOf %+v covers it: %v, MayManageTrashed says %v", c.name, s, inScope, c.restore)
		}
	}
	// Before the trash, the public document was everyone's to read.
	if PermissionOf(Actor{}, live, now) != PermRead {
		t.Fatal("the live copy is not readable: the test proves nothing")
	}
}
