package accounts

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"docplat/errs"
)

func ptr[T any](v T) *T { return &v }

// actorNames are the acting users of the authorization matrix.
var actorNames = []string{"admin", "dept_admin A", "dept_admin B", "member A"}

func (f *fixture) actor(name string) User {
	switch name {
	case "admin":
		return f.admin
	case "dept_admin A":
		return f.deptAdminA
	case "dept_admin B":
		return f.deptAdminB
	case "member A":
		return f.memberA
	}
	panic("unknown actor " + name)
}

// TestAuthorizationMatrix runs every operation as every actor. want maps an
// actor to the expected error: nil for success, ErrForbidden where the actor
// may not do this at all, ErrNotFound where a dept_admin is not even told
// that a user or department outside its department exists.
func TestAuthorizationMatrix(t *testing.T) {
	ctx := context.Background()
	type op func(f *fixture, actor User) error
	everyoneBut := func(okFor ...string) map[string]error {
		m := map[string]error{}
		for _, a := range actorNames {
			m[a] = ErrForbidden
		}
		for _, a := range okFor {
			m[a] = nil
		}
		return m
	}
	// Usual answer for an operation on a user of department A.
	onUserOfA := map[string]error{"admin": nil, "dept_admin A": nil, "dept_admin B": ErrNotFound, "member A": ErrForbidden}
	update := func(id func(f *fixture) string, p UserPatch) op {
		return func(f *fixture, actor User) error {
			_, err := f.svc.UpdateUser(ctx, actor, id(f), p)
			return err
		}
	}
	create := func(in NewUser) op {
		return func(f *fixture, actor User) error {
			if in.DepartmentID == "A" {
				in.DepartmentID = f.deptA.ID
			}
			in.Username, in.Password = "newbie", testPassword
			_, err := f.svc.CreateUser(ctx, actor, in)
			return err
		}
	}
	memberA := func(f *fixture) string { return f.memberA.ID }
	cases := []struct {
		name string
		do   op
		want map[string]error
	}{
		// CreateUser
		{"create member of A", create(NewUser{Role: RoleMember, DepartmentID: "A"}),
			map[string]error{"admin": nil, "dept_admin A": nil, "dept_admin B": ErrForbidden, "member A": ErrForbidden}},
		{"create member of A with default role", create(NewUser{DepartmentID: "A"}),
			map[string]error{"admin": nil, "dept_admin A": nil, "dept_admin B": ErrForbidden, "member A": ErrForbidden}},
		{"create dept_admin of A", create(NewUser{Role: RoleDeptAdmin, DepartmentID: "A"}),
			map[string]error{"admin": nil, "dept_admin A": nil, "dept_admin B": ErrForbidden, "member A": ErrForbidden}},
		{"create admin", create(NewUser{Role: RoleAdmin}), everyoneBut("admin")},
		{"create admin in A", create(NewUser{Role: RoleAdmin, DepartmentID: "A"}), everyoneBut("admin")},
		{"create member without department", create(NewUser{Role: RoleMember}), everyoneBut("admin")},

		// UserByID
		{"get member of A", func(f *fixture, actor User) error {
			_, err := f.svc.UserByID(ctx, actor, f.memberA.ID)
			return err
		}, onUserOfA},

		// UpdateUser
		{"rename member of A", update(memberA, UserPatch{DisplayName: ptr("Carol C.")}), onUserOfA},
		{"rename member of B", update(func(f *fixture) string { return f.memberB.ID }, UserPatch{DisplayName: ptr("Dave D.")}),
			map[string]error{"admin": nil, "dept_admin A": ErrNotFound, "dept_admin B": nil, "member A": ErrForbidden}},
		{"rename user without department", update(func(f *fixture) string { return f.loner.ID }, UserPatch{DisplayName: ptr("Erin")}),
			map[string]error{"admin": nil, "dept_admin A": ErrNotFound, "dept_admin B": ErrNotFound, "member A": ErrForbidden}},
		{"rename missing user", update(func(*fixture) string { return "no-such-user" }, UserPatch{DisplayName: ptr("x")}),
			map[string]error{"admin": ErrNotFound, "dept_admin A": ErrNotFound, "dept_admin B": ErrNotFound, "member A": ErrForbidden}},
		{"promote member of A to admin", update(memberA, UserPatch{Role: ptr(RoleAdmin)}),
			map[string]error{"admin": nil, "dept_admin A": ErrForbidden, "dept_admin B": ErrNotFound, "member A": ErrForbidden}},
		{"promote member of A to dept_admin", update(memberA, UserPatch{Role: ptr(RoleDeptAdmin)}), onUserOfA},
		{"move member of A to B", update(memberA, UserPatch{DepartmentID: ptr("dept-b")}),
			map[string]error{"admin": nil, "dept_admin A": ErrForbidden, "dept_admin B": ErrNotFound, "member A": ErrForbidden}},
		{"take member of A out of any department", update(memberA, UserPatch{DepartmentID: ptr("")}),
			map[string]error{"admin": nil, "dept_admin A": ErrForbidden, "dept_admin B": ErrNotFound, "member A": ErrForbidden}},
		{"disable member of A", update(memberA, UserPatch{Disabled: ptr(true)}), onUserOfA},
		{"reset password of member of A", update(memberA, UserPatch{Password: ptr("a-new-password")}), onUserOfA},

		// DeleteUser
		{"delete member of A", func(f *fixture, actor User) error { return f.svc.DeleteUser(ctx, actor, f.memberA.ID) }, onUserOfA},
		{"delete missing user", func(f *fixture, actor User) error { return f.svc.DeleteUser(ctx, actor, "no-such-user") },
			map[string]error{"admin": ErrNotFound, "dept_admin A": ErrNotFound, "dept_admin B": ErrNotFound, "member A": ErrForbidden}},
		{"delete member of A who owns documents", func(f *fixture, actor User) error { return f.svc.DeleteUser(ctx, actor, f.memberA2.ID) },
			map[string]error{"admin": ErrConflict, "dept_admin A": ErrConflict, "dept_admin B": ErrNotFound, "member A": ErrForbidden}},

		// ListUsers (what each sees: TestListUsersScope)
		{"list users", func(f *fixture, actor User) error {
			_, _, err := f.svc.ListUsers(ctx, actor, Page{Page: 1, Size: 50})
			return err
		}, everyoneBut("admin", "dept_admin A", "dept_admin B")},

		// Departments
		{"create department", func(f *fixture, actor User) error {
			_, err := f.svc.CreateDepartment(ctx, actor, "Research", "", 0)
			return err
		}, everyoneBut("admin")},
		{"get department A", func(f *fixture, actor User) error {
			_, err := f.svc.Department(ctx, actor, f.deptA.ID)
			return err
		}, map[string]error{"admin": nil, "dept_admin A": nil, "dept_admin B": ErrNotFound, "member A": ErrForbidden}},
		{"rename department A", func(f *fixture, actor User) error {
			_, err := f.svc.UpdateDepartment(ctx, actor, f.deptA.ID, DepartmentPatch{Name: ptr("R&D")})
			return err
		}, everyoneBut("admin")},
		{"set quota of department A", func(f *fixture, actor User) error {
			_, err := f.svc.UpdateDepartment(ctx, actor, f.deptA.ID, DepartmentPatch{QuotaBytes: ptr(int64(1 << 30))})
			return err
		}, everyoneBut("admin")},
		{"delete empty department", func(f *fixture, actor User) error {
			return f.svc.DeleteDepartment(ctx, actor, f.deptEmpty.ID)
		}, everyoneBut("admin")},
		{"list departments", func(f *fixture, actor User) error {
			_, _, err := f.svc.ListDepartments(ctx, actor, Page{Page: 1, Size: 50})
			return err
		}, everyoneBut("admin", "dept_admin A", "dept_admin B")},
	}
	for _, tc := range cases {
		for _, actorName := range actorNames {
			want, ok := tc.want[actorName]
			if !ok {
				t.Fatalf("%s: no expectation for %s", tc.name, actorName)
			}
			t.Run(tc.name+"/as "+actorName, func(t *testing.T) {
				f := newFixture(t)
				before := f.store.snapshot()
				err := tc.do(f, f.actor(actorName))
				checkErr(t, tc.name, err, want)
				if err != nil && !reflect.DeepEqual(before, f.store.snapshot()) {
					t.Errorf("%s failed with %v but changed the store", tc.name, err)
				}
			})
		}
	}
}

// snapshot copies the users and departments, to check that a refused
// operation changed nothing.
func (s *fakeStore) snapshot() [2]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	users := make(map[string]User, len(s.users))
	for k, v := range s.users {
		users[k] = v
	}
	depts := make(map[string]Department, len(s.depts))
	for k, v := range s.depts {
		depts[k] = v
	}
	return [2]any{users, depts}
}

func TestListUsersScope(t *testing.T) {
	cases := []struct {
		actor string
		want  []string
	}{
		{"admin", []string{"alice", "bob", "carol", "cecile", "dave", "erin", "root"}},
		{"dept_admin A", []string{"alice", "carol", "cecile"}},
		{"dept_admin B", []string{"bob", "dave"}},
	}
	for _, tc := range cases {
		t.Run(tc.actor, func(t *testing.T) {
			f := newFixture(t)
			users, total, err := f.svc.ListUsers(context.Background(), f.actor(tc.actor), Page{Page: 1, Size: 50})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range users {
				got = append(got, u.Username)
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, tc.want) || total != int64(len(tc.want)) {
				t.Errorf("ListUsers = %q (total %d), want %q", got, total, tc.want)
			}
		})
	}
}

func TestCreateUserValidation(t *testing.T) {
	cases := []struct {
		name string
		in   NewUser
		want error
	}{
		{"good username with dot and dash", NewUser{Username: "ok.name-1"}, nil},
		{"two-character username", NewUser{Username: "ab"}, nil},
		{"64-character username", NewUser{Username: strings.Repeat("a", 64)}, nil},
		{"empty username", NewUser{Username: ""}, errInvalid},
		{"one-character username", NewUser{Username: "a"}, errInvalid},
		{"65-character username", NewUser{Username: strings.Repeat("a", 65)}, errInvalid},
		{"username with a space", NewUser{Username: "bad name"}, errInvalid},
		{"username that is a path", NewUser{Username: "../x"}, errInvalid},
		{"username starting with a dot", NewUser{Username: ".hidden"}, errInvalid},
		{"username with a non-ascii letter", NewUser{Username: "zoë"}, errInvalid},
		{"7-character password", NewUser{Username: "newbie", Password: "1234567"}, errInvalid},
		{"7-rune multi-byte password", NewUser{Username: "newbie", Password: strings.Repeat("密", 7)}, errInvalid},
		{"73-byte password", NewUser{Username: "newbie", Password: strings.Repeat("p", 73)}, errInvalid},
		{"25-rune password of 75 bytes", NewUser{Username: "newbie", Password: strings.Repeat("密", 25)}, errInvalid},
		{"8-rune multi-byte password", NewUser{Username: "newbie", Password: strings.Repeat("密", 8)}, nil},
		{"72-byte password", NewUser{Username: "newbie", Password: strings.Repeat("p", 72)}, nil},
		{"unknown role", NewUser{Username: "newbie", Role: "root"}, errInvalid},
		{"dept_admin without department", NewUser{Username: "newbie", Role: RoleDeptAdmin}, errInvalid},
		{"nonexistent department", NewUser{Username: "newbie", DepartmentID: "no-such-dept"}, errInvalid},
		{"201-rune display name", NewUser{Username: "newbie", DisplayName: strings.Repeat("名", 201)}, errInvalid},
		{"taken username", NewUser{Username: "carol"}, ErrConflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.in.Password == "" {
				tc.in.Password = testPassword
			}
			before, _ := f.store.CountUsers(context.Background(), "")
			u, err := f.svc.CreateUser(context.Background(), f.admin, tc.in)
			checkErr(t, "CreateUser", err, tc.want)
			after, _ := f.store.CountUsers(context.Background(), "")
			if tc.want != nil {
				if after != before {
					t.Errorf("rejected CreateUser changed the user count %d -> %d", before, after)
				}
				return
			}
			if after != before+1 {
				t.Errorf("user count %d -> %d, want one more", before, after)
			}
			if u.ID == "" || u.Username != tc.in.Username || u.Role != RoleMember || u.DisplayName != tc.in.Username {
				t.Errorf("created %+v, want a member %q named after its username", u, tc.in.Username)
			}
			if u.PasswordHash == "" || u.PasswordHash == tc.in.Password || !passwordMatches(u.PasswordHash, tc.in.Password) {
				t.Errorf("created user's password hash does not verify the password")
			}
		})
	}
}

func TestCreateUserTrimsUsernameAndKeepsFields(t *testing.T) {
	f := newFixture(t)
	in := NewUser{Username: "  frank  ", Password: testPassword, DisplayName: "Frank F.", Role: RoleDeptAdmin, DepartmentID: f.deptA.ID}
	u, err := f.svc.CreateUser(context.Background(), f.admin, in)
	if err != nil {
		t.Fatal(err)
	}
	want := User{ID: u.ID, Username: "frank", DisplayName: "Frank F.", Role: RoleDeptAdmin, DepartmentID: f.deptA.ID,
		CreatedAt: t0, UpdatedAt: t0, PasswordHash: u.PasswordHash}
	if u != want {
		t.Errorf("CreateUser = %+v, want %+v", u, want)
	}
	if stored, _ := f.storedUser(t, u.ID); stored != u {
		t.Errorf("stored %+v, returned %+v", stored, u)
	}
}

func TestDuplicateUsernameIsAConflictError(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.CreateUser(context.Background(), f.admin, NewUser{Username: "carol", Password: testPassword})
	if errs.CodeOf(err) != errs.Conflict || !errors.Is(err, ErrConflict) {
		t.Fatalf("CreateUser(taken) error = %T %v, want a conflict error wrapping ErrConflict", err, err)
	}
	if msg := errs.MessageOf(err); !strings.Contains(msg, "carol") {
		t.Errorf("conflict message %q does not name the username", msg)
	}
}

func TestUpdateUserValidation(t *testing.T) {
	cases := []struct {
		name   string
		target func(f *fixture) string
		patch  UserPatch
		want   error
	}{
		{"unknown role", func(f *fixture) string { return f.memberA.ID }, UserPatch{Role: ptr(Role("root"))}, errInvalid},
		{"dept_admin role for a user without department", func(f *fixture) string { return f.loner.ID }, UserPatch{Role: ptr(RoleDeptAdmin)}, errInvalid},
		{"dept_admin taken out of its department", func(f *fixture) string { return f.deptAdminA.ID }, UserPatch{DepartmentID: ptr("")}, errInvalid},
		{"nonexistent department", func(f *fixture) string { return f.memberA.ID }, UserPatch{DepartmentID: ptr("no-such-dept")}, errInvalid},
		{"7-character password", func(f *fixture) string { return f.memberA.ID }, UserPatch{Password: ptr("1234567")}, errInvalid},
		{"73-byte password", func(f *fixture) string { return f.memberA.ID }, UserPatch{Password: ptr(strings.Repeat("p", 73))}, errInvalid},
		{"201-rune display name", func(f *fixture) string { return f.memberA.ID }, UserPatch{DisplayName: ptr(strings.Repeat("名", 201))}, errInvalid},
		{"dept_admin role together with a department", func(f *fixture) string { return f.loner.ID },
			UserPatch{Role: ptr(RoleDeptAdmin), DepartmentID: ptr("dept-b")}, nil},
		{"empty patch", func(f *fixture) string { return f.memberA.ID }, UserPatch{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			id := tc.target(f)
			before, _ := f.storedUser(t, id)
			got, err := f.svc.UpdateUser(context.Background(), f.admin, id, tc.patch)
			checkErr(t, "UpdateUser", err, tc.want)
			after, _ := f.storedUser(t, id)
			if tc.want != nil {
				if after != before {
					t.Errorf("rejected UpdateUser changed the user: %+v -> %+v", before, after)
				}
				return
			}
			if after != got {
				t.Errorf("stored %+v, returned %+v", after, got)
			}
		})
	}
}

func TestUpdateUserAppliesPatch(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.now = t0.Add(42)
	got, err := f.svc.UpdateUser(ctx, f.admin, f.loner.ID, UserPatch{
		Role: ptr(RoleDeptAdmin), DepartmentID: ptr(f.deptB.ID), DisplayName: ptr("Erin E."),
		Disabled: ptr(true), Password: ptr("brand-new-password"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != RoleDeptAdmin || got.DepartmentID != f.deptB.ID || got.DisplayName != "Erin E." || !got.Disabled ||
		!got.UpdatedAt.Equal(f.now) || !got.CreatedAt.Equal(t0) || got.Username != "erin" {
		t.Errorf("UpdateUser = %+v, want every patched field applied", got)
	}
	if _, err := f.svc.Login(ctx, "erin", "brand-new-password"); err != ErrBadCredentials {
		t.Errorf("Login of the disabled user = %v, want ErrBadCredentials", err)
	}
	if _, err := f.svc.UpdateUser(ctx, f.admin, f.loner.ID, UserPatch{Disabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Login(ctx, "erin", "brand-new-password"); err != nil {
		t.Errorf("Login with the new password = %v", err)
	}
	if _, err := f.svc.Login(ctx, "erin", testPassword); err != ErrBadCredentials {
		t.Errorf("Login with the old password = %v, want ErrBadCredentials", err)
	}
}

func TestSelfProtection(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		do   func(f *fixture, self User) error
		want error
	}{
		{"cannot disable yourself", func(f *fixture, self User) error {
			_, err := f.svc.UpdateUser(ctx, self, self.ID, UserPatch{Disabled: ptr(true)})
			return err
		}, errInvalid},
		{"cannot change your own role", func(f *fixture, self User) error {
			_, err := f.svc.UpdateUser(ctx, self, self.ID, UserPatch{Role: ptr(RoleMember)})
			return err
		}, errInvalid},
		{"cannot delete yourself", func(f *fixture, self User) error {
			return f.svc.DeleteUser(ctx, self, self.ID)
		}, errInvalid},
		{"may restate your own role", func(f *fixture, self User) error {
			_, err := f.svc.UpdateUser(ctx, self, self.ID, UserPatch{Role: ptr(self.Role)})
			return err
		}, nil},
		{"may keep yourself enabled", func(f *fixture, self User) error {
			_, err := f.svc.UpdateUser(ctx, self, self.ID, UserPatch{Disabled: ptr(false)})
			return err
		}, nil},
		{"may rename yourself", func(f *fixture, self User) error {
			_, err := f.svc.UpdateUser(ctx, self, self.ID, UserPatch{DisplayName: ptr("Me")})
			return err
		}, nil},
	}
	for _, tc := range cases {
		for _, actorName := range []string{"admin", "dept_admin A"} {
			t.Run(tc.name+"/as "+actorName, func(t *testing.T) {
				f := newFixture(t)
				self := f.actor(actorName)
				err := tc.do(f, self)
				checkErr(t, tc.name, err, tc.want)
				stored, ok := f.storedUser(t, self.ID)
				if !ok || stored.Disabled || stored.Role != self.Role {
					t.Errorf("after %q the actor is %+v (present: %v)", tc.name, stored, ok)
				}
			})
		}
	}
}

// TestDeptAdminCannotManageAdminsOfItsDepartment documents a privilege
// escalation: visibleUser only compares departments, so a dept_admin may
// reset the password of, demote, disable or delete an admin whose
// department is its own.
func TestDeptAdminCannotManageAdminsOfItsDepartment(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		do   func(f *fixture, target string) error
	}{
		{"reset the admin's password", func(f *fixture, target string) error {
			_, err := f.svc.UpdateUser(ctx, f.deptAdminA, target, UserPatch{Password: ptr("taken-over-now")})
			return err
		}},
		{"demote the admin", func(f *fixture, target string) error {
			_, err := f.svc.UpdateUser(ctx, f.deptAdminA, target, UserPatch{Role: ptr(RoleMember)})
			return err
		}},
		{"disable the admin", func(f *fixture, target string) error {
			_, err := f.svc.UpdateUser(ctx, f.deptAdminA, target, UserPatch{Disabled: ptr(true)})
			return err
		}},
		{"delete the admin", func(f *fixture, target string) error {
			return f.svc.DeleteUser(ctx, f.deptAdminA, target)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			adminA := f.addUser("u-admin-a", "admin-of-a", RoleAdmin, f.deptA.ID)
			err := tc.do(f, adminA.ID)
			if err != ErrForbidden && err != ErrNotFound {
				t.Errorf("dept_admin of A: %s = %v, want ErrForbidden or ErrNotFound", tc.name, err)
			}
			if after, ok := f.storedUser(t, adminA.ID); !ok || after != adminA {
				t.Errorf("the admin changed: %+v -> %+v (present: %v)", adminA, after, ok)
			}
		})
	}
}

// TestPasswordChangeRevokesEveryToken: a reset by an admin ends the user's
// sessions and API tokens; other changes keep them.
func TestPasswordChangeRevokesEveryToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s, err := f.svc.Login(ctx, "carol", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	_, api, err := f.svc.CreateAPIToken(ctx, f.memberA, f.freshSession(), "script", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateUser(ctx, f.admin, f.memberA.ID, UserPatch{DisplayName: ptr("Carol C.")}); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{s.Token, api} {
		if _, _, err := f.svc.Authenticate(ctx, secret); err != nil {
			t.Fatalf("a display-name change revoked a token: %v", err)
		}
	}
	if _, err := f.svc.UpdateUser(ctx, f.deptAdminA, f.memberA.ID, UserPatch{Password: ptr("a-new-password")}); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{s.Token, api} {
		if _, _, err := f.svc.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("token after the password change: %v, want ErrUnauthorized", err)
		}
	}
}

// TestUserListAndReadAgree: every actor lists exactly the users it may read,
// an admin placed in a department included (a dept_admin sees it in
// neither).
func TestUserListAndReadAgree(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	placed := f.addUser("u-admin-a", "zed", RoleAdmin, f.deptA.ID)
	for _, actor := range []User{f.admin, placed, f.deptAdminA, f.deptAdminB, f.memberA, f.loner} {
		listed := map[string]bool{}
		users, total, err := f.svc.ListUsers(ctx, actor, Page{Page: 1, Size: 1000})
		if errors.Is(err, ErrForbidden) && actor.Role == RoleMember {
			continue
		}
		if err != nil || int(total) != len(users) {
			t.Fatalf("%s: ListUsers = %d of %d, %v", actor.Username, len(users), total, err)
		}
		for _, u := range users {
			listed[u.ID] = true
		}
		for id := range f.store.users {
			_, err := f.svc.UserByID(ctx, actor, id)
			if (err == nil) != listed[id] {
				t.Errorf("%s: user %s listed=%v but UserByID error = %v", actor.Username, id, listed[id], err)
			}
		}
	}
	if _, err := f.svc.UserByID(ctx, f.deptAdminA, placed.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("dept_admin reading an admin placed in its department: %v, want ErrNotFound", err)
	}
}

func TestSearchUsersKeepsTheScopeAndRefusesLongSearches(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	users, total, err := f.svc.SearchUsers(ctx, f.actor("dept_admin B"), " DA ", Page{Page: 1, Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].Username != "dave" || total != 1 {
		t.Errorf("SearchUsers(dept_admin B, DA) = %v (total %d), want dave alone", users, total)
	}
	if _, _, err := f.svc.SearchUsers(ctx, f.actor("admin"), strings.Repeat("字", MaxUserSearch+1), Page{Page: 1, Size: 50}); errs.CodeOf(err) != errs.BadRequest {
		t.Errorf("a search over %d characters: err = %v, want bad request", MaxUserSearch, err)
	}
	if _, _, err := f.svc.SearchUsers(ctx, f.actor("member A"), "", Page{Page: 1, Size: 50}); !errors.Is(err, ErrForbidden) {
		t.Errorf("a member searching: err = %v, want ErrForbidden", err)
	}
}
