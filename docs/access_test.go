package docs

import (
	"errors"
	"testing"
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

// TestAccessMatrix checks canRead, canWrite and writeCheck for every actor
// against every document. Expectations read "rw" (read and write), "r-"
// (read only) or "--" (neither).
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
		"private/A": "--", "department/A": "--", "public/A": "r-",
		"private/none": "--", "department/none": "--", "public/none": "r-",
		"private/orphan": "--",
	}
	ownerWants := all("rw")
	ownerWants["private/orphan"] = "--"

	cases := []struct {
		name  string
		actor Actor
		want  map[string]string
	}{
		{"admin reads and writes everything", Actor{UserID: "admin", Admin: true}, all("rw")},
		{"anonymous reads only public documents", Actor{}, publicOnly},
		{"owner reads and writes its own documents", Actor{UserID: "owner", DepartmentID: "A"}, ownerWants},
		{"owner who moved to another department keeps its documents", Actor{UserID: "owner", DepartmentID: "B"}, ownerWants},
		{"member of the same department reads department and public documents", Actor{UserID: "ma", DepartmentID: "A"}, map[string]string{
			"private/A": "--", "department/A": "r-", "public/A": "r-",
			"private/none": "--", "department/none": "--", "public/none": "r-",
			"private/orphan": "--",
		}},
		{"member of another department reads only public documents", Actor{UserID: "mb", DepartmentID: "B"}, publicOnly},
		{"member without department reads only public documents", Actor{UserID: "mn"}, publicOnly},
		{"dept_admin of the document's department reads and writes all of it", Actor{UserID: "da", DepartmentID: "A", DeptAdmin: true}, map[string]string{
			"private/A": "rw", "department/A": "rw", "public/A": "rw",
			"private/none": "--", "department/none": "--", "public/none": "r-",
			"private/orphan": "--",
		}},
		{"dept_admin of another department reads only public documents", Actor{UserID: "db", DepartmentID: "B", DeptAdmin: true}, publicOnly},
		{"dept_admin without department gains nothing on documents without department", Actor{UserID: "dn", DeptAdmin: true}, publicOnly},
	}
	for _, tc := range cases {
		for docName, d := range accessDocs {
			want, ok := tc.want[docName]
			if !ok {
				t.Fatalf("%s: no expectation for %s", tc.name, docName)
			}
			t.Run(tc.name+"/"+docName, func(t *testing.T) {
				wantRead, wantWrite := want[0] == 'r', want[1] == 'w'
				if got := canRead(tc.actor, d); got != wantRead {
					t.Errorf("canRead = %v, want %v", got, wantRead)
				}
				if got := canWrite(tc.actor, d); got != wantWrite {
					t.Errorf("canWrite = %v, want %v", got, wantWrite)
				}
				var wantErr error
				switch {
				case !wantRead:
					wantErr = ErrNotFound
				case !wantWrite:
					wantErr = ErrForbidden
				}
				if err := writeCheck(tc.actor, d); !errors.Is(err, wantErr) {
					t.Errorf("writeCheck = %v, want %v", err, wantErr)
				}
			})
		}
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
