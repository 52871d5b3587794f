package docs

import (
	"errors"
	"testing"
	"time"
)

// accessDocs are the documents of the access matrix, all owned by "owner"
// except the orphan.
var accessDocs = map[string]Document{
	"private/A":       {ID: "d1", OwnerID: "owner", DepartmentID: "A", Visibility: Private},
	"department/A":    {ID: "d2", OwnerID: "owner", DepartmentID: "A", Visibility: Department},
	"public/A":        {ID: "d3", OwnerID: "owner", DepartmentID: "A", Visibility: Public},
	"private/none":    {ID: "d4", OwnerID: "owner", Visibility: Private},
	"department/none": {ID: "d5", OwnerID: "owner", Visibility: Department},
	"public/none":     {ID: "d6", OwnerID: "owner", Visibility: Public},
	// A document without an owner must not become the anonymous reader's.
	"private/orphan": {ID: "d7", Visibility: Private},
}

// TestAccessMatrix checks the authority's decision for every actor against
// every document. Expectations read "m" (manage), "w" (write), "r" (read)
// or "-" (nothing).
func TestAccessMatrix(t *testing.T) {
	all := func(s string) map[string]string {
		m := map[string]string{}
		for name := range accessDocs {
			m[name] = s
		}
		return m
	}
	// A caller outside the document's department sees only public documents.
	publicOnly := map[string]string{
		"private/A": "-", "department/A": "-", "public/A": "r",
		"private/none": "-", "department/none": "-", "public/none": "r",
		"private/orphan": "-",
	}
	ownerWants := all("m")
	ownerWants["private/orphan"] = "-"
	readerOwner := all("r")
	readerOwner["private/orphan"] = "-"

	cases := []struct {
		name  string
		actor Actor
		want  map[string]string
	}{
		{"admin manages everything", Actor{UserID: "admin", Admin: true}, all("m")},
		{"anonymous reads only public documents", Actor{}, publicOnly},
		{"owner manages its own documents", Actor{UserID: "owner", DepartmentID: "A"}, ownerWants},
		{"owner who moved to another department keeps its documents", Actor{UserID: "owner", DepartmentID: "B"}, ownerWants},
		{"member of the same department reads department and public documents", Actor{UserID: "ma", DepartmentID: "A"}, map[string]string{
			"private/A": "-", "department/A": "r", "public/A": "r",
			"private/none": "-", "department/none": "-", "public/none": "r",
			"private/orphan": "-",
		}},
		{"member of a sub-department does not read its parent's department documents", Actor{UserID: "ms", DepartmentID: "A1", Departments: []string{"A1", "A"}}, publicOnly},
		{"member of another department reads only public documents", Actor{UserID: "mb", DepartmentID: "B"}, publicOnly},
		{"member without department reads only public documents", Actor{UserID: "mn"}, publicOnly},
		{"dept_admin of the document's department manages all of it", Actor{UserID: "da", DepartmentID: "A", DeptAdmin: true}, map[string]string{
			"private/A": "m", "department/A": "m", "public/A": "m",
			"private/none": "-", "department/none": "-", "public/none": "r",
			"private/orphan": "-",
		}},
		{"dept_admin of another department reads only public documents", Actor{UserID: "db", DepartmentID: "B", DeptAdmin: true}, publicOnly},
		{"dept_admin without department gains nothing on documents without department", Actor{UserID: "dn", DeptAdmin: true}, publicOnly},
		{"a reader owning documents only reads them", Actor{UserID: "owner", DepartmentID: "A", Reader: true}, readerOwner},
	}
	for _, tc := range cases {
		for docName, d := range accessDocs {
			want, ok := tc.want[docName]
			if !ok {
				t.Fatalf("%s: no expectation for %s", tc.name, docName)
			}
			t.Run(tc.name+"/"+docName, func(t *testing.T) {
				checkDecision(t, tc.actor, d, want)
			})
		}
	}
}

var permLetters = map[string]Permission{"-": PermNone, "r": PermRead, "w": PermWrite, "m": PermManage}

// checkDecision checks PermissionOf and the errors check answers for each need.
func checkDecision(t *testing.T, a Actor, d Document, want string) {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	wantP := permLetters[want]
	if got := PermissionOf(a, d, now); got != wantP {
		t.Errorf("PermissionOf = %v, want %v", got, wantP)
	}
	s := &Service{now: func() time.Time { return now }}
	for _, need := range []Permission{PermRead, PermWrite, PermManage} {
		var wantErr error
		switch {
		case wantP < PermRead:
			wantErr = ErrNotFound
		case wantP < need:
			wantErr = ErrForbidden
		}
		if err := s.check(a, d, need); !errors.Is(err, wantErr) {
			t.Errorf("check(%v) = %v, want %v", need, err, wantErr)
		}
	}
}

// TestGrantsDecide: grants add to what visibility gives, department grants
// cover sub-departments, expired grants count as absent, and readers stay
// readers.
func TestGrantsDecide(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	exactlyNow := now
	doc := func(vis Visibility, grants ...Grant) Document {
		return Document{ID: "d", OwnerID: "owner", DepartmentID: "A", Visibility: vis, Grants: grants}
	}
	g := func(principal string, p Permission, exp *time.Time) Grant {
		return Grant{Principal: principal, Permission: p, ExpiresAt: exp}
	}
	member := Actor{UserID: "u", DepartmentID: "B1", Departments: []string{"B1", "B"}}
	cases := []struct {
		name  string
		actor Actor
		doc   Document
		want  string
	}{
		{"no grant", member, doc(Private), "-"},
		{"user read grant", member, doc(Private, g("user:u", PermRead, nil)), "r"},
		{"user write grant", member, doc(Private, g("user:u", PermWrite, nil)), "w"},
		{"user manage grant", member, doc(Private, g("user:u", PermManage, &future)), "m"},
		{"grant to somebody else", member, doc(Private, g("user:v", PermManage, nil)), "-"},
		{"expired grant", member, doc(Private, g("user:u", PermManage, &past)), "-"},
		{"grant expiring now has expired", member, doc(Private, g("user:u", PermManage, &exactlyNow)), "-"},
		{"own department grant", member, doc(Private, g("department:B1", PermWrite, nil)), "w"},
		{"parent department grant covers sub-departments", member, doc(Private, g("department:B", PermRead, nil)), "r"},
		{"sub-department grant does not cover the parent", Actor{UserID: "p", DepartmentID: "B", Departments: []string{"B"}}, doc(Private, g("department:B1", PermRead, nil)), "-"},
		{"the strongest active grant wins", member, doc(Private, g("department:B", PermWrite, nil), g("user:u", PermRead, nil), g("department:B1", PermManage, &past)), "w"},
		{"a read grant adds nothing to public", member, doc(Public, g("user:u", PermRead, nil)), "r"},
		{"a write grant raises public", member, doc(Public, g("user:u", PermWrite, nil)), "w"},
		{"anonymous never holds grants", Actor{}, doc(Private, g("user:", PermManage, nil)), "-"},
		{"a reader is capped at read", Actor{UserID: "u", Reader: true}, doc(Private, g("user:u", PermManage, nil)), "r"},
		{"a reader without grant reads nothing private", Actor{UserID: "u", Reader: true}, doc(Private), "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkDecision(t, tc.actor, tc.doc, tc.want)
		})
	}
}

func TestAnonymousActorIsTheZeroActor(t *testing.T) {
	cases := []struct {
		name  string
		actor Actor
		want  bool
	}{
		{"zero actor", Actor{}, true},
		{"department without user is still anonymous", Actor{DepartmentID: "A"}, true},
		{"signed-in user", Actor{UserID: "u"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.actor.Anonymous(); got != tc.want {
				t.Errorf("Anonymous() = %v, want %v", got, tc.want)
			}
		})
	}
}
