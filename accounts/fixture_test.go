package accounts

import (
	"errors"
	"sync"
	"testing"
	"time"

	"docplat/errs"
)

// testPassword is the password of every seeded user. Its bcrypt hash is
// computed once: bcrypt is deliberately slow.
const testPassword = "correct-horse-battery"

var testPasswordHash = sync.OnceValue(func() string {
	h, err := hashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a Service over a fakeStore with a controllable clock and a few
// seeded departments and users.
type fixture struct {
	svc   *Service
	store *fakeStore
	now   time.Time

	deptA, deptB, deptEmpty Department

	admin      User // no department
	deptAdminA User
	deptAdminB User
	memberA    User
	memberA2   User // owns documents
	memberB    User
	loner      User // member without department
}

const sessionTTL = time.Hour

// freshSession is a session just signed in with, as creating API tokens needs.
func (f *fixture) freshSession() Token {
	return Token{ID: NewID(), Kind: TokenSession, CreatedAt: f.now}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: newFakeStore(), now: t0}
	f.svc = NewService(f.store, Options{SessionTTL: sessionTTL})
	f.svc.now = func() time.Time { return f.now }

	f.deptA = f.addDept("dept-a", "Engineering")
	f.deptB = f.addDept("dept-b", "Sales")
	f.deptEmpty = f.addDept("dept-empty", "Empty")

	f.admin = f.addUser("u-admin", "root", RoleAdmin, "")
	f.deptAdminA = f.addUser("u-da-a", "alice", RoleDeptAdmin, f.deptA.ID)
	f.deptAdminB = f.addUser("u-da-b", "bob", RoleDeptAdmin, f.deptB.ID)
	f.memberA = f.addUser("u-m-a", "carol", RoleMember, f.deptA.ID)
	f.memberA2 = f.addUser("u-m-a2", "cecile", RoleMember, f.deptA.ID)
	f.store.ownsDocuments[f.memberA2.ID] = true
	f.memberB = f.addUser("u-m-b", "dave", RoleMember, f.deptB.ID)
	f.loner = f.addUser("u-loner", "erin", RoleMember, "")
	return f
}

func (f *fixture) addDept(id, name string) Department {
	d := Department{ID: id, Name: name, CreatedAt: t0, UpdatedAt: t0}
	f.store.depts[id] = d
	return d
}

func (f *fixture) addUser(id, username string, role Role, dept string) User {
	u := User{ID: id, Username: username, DisplayName: username, Role: role, DepartmentID: dept,
		PasswordHash: testPasswordHash(), CreatedAt: t0, UpdatedAt: t0}
	f.store.users[id] = u
	return u
}

// storedUser reads a user straight from the fake store.
func (f *fixture) storedUser(t *testing.T, id string) (User, bool) {
	t.Helper()
	f.store.mu.Lock()
	defer f.store.mu.Unlock()
	u, ok := f.store.users[id]
	return u, ok
}

// checkErr fails unless err matches want: nil means success, errInvalid
// means any bad-input error (errs.BadRequest), anything else errors.Is.
func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == errInvalid {
		if errs.CodeOf(err) != errs.BadRequest {
			t.Fatalf("%s: error = %v, want a bad_request error", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: error = %v, want %v", what, err, want)
	}
}

// errInvalid stands for "some bad-input error" in tables.
var errInvalid = errs.New(errs.BadRequest, "any invalid input")
