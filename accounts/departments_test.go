package accounts

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"docplat/errs"
)

func TestCreateDepartment(t *testing.T) {
	cases := []struct {
		name     string
		deptName string
		parent   string
		quota    int64
		want     error
		wantName string
	}{
		{"top-level department", "Research", "", 0, nil, "Research"},
		{"name is trimmed", "  Research  ", "", 0, nil, "Research"},
		{"child department with quota", "Backend", "dept-a", 1 << 30, nil, "Backend"},
		{"200-rune name", strings.Repeat("部", 200), "", 0, nil, strings.Repeat("部", 200)},
		{"empty name", "", "", 0, errInvalid, ""},
		{"blank name", "   ", "", 0, errInvalid, ""},
		{"201-rune name", strings.Repeat("部", 201), "", 0, errInvalid, ""},
		{"negative quota", "Research", "", -1, errInvalid, ""},
		{"nonexistent parent", "Research", "no-such-dept", 0, errInvalid, ""},
		{"taken name", "Engineering", "", 0, ErrConflict, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			before := f.store.snapshot()
			d, err := f.svc.CreateDepartment(context.Background(), f.admin, tc.deptName, tc.parent, tc.quota)
			checkErr(t, "CreateDepartment", err, tc.want)
			if tc.want != nil {
				if !reflect.DeepEqual(before, f.store.snapshot()) {
					t.Error("rejected CreateDepartment changed the store")
				}
				return
			}
			want := Department{ID: d.ID, Name: tc.wantName, ParentID: tc.parent, QuotaBytes: tc.quota, CreatedAt: t0, UpdatedAt: t0}
			if d.ID == "" || d != want {
				t.Errorf("CreateDepartment = %+v, want %+v", d, want)
			}
			if got, err := f.svc.Department(context.Background(), f.admin, d.ID); err != nil || got != d {
				t.Errorf("Department(new) = %+v, %v; want %+v", got, err, d)
			}
		})
	}
}

func TestUpdateDepartment(t *testing.T) {
	cases := []struct {
		name  string
		id    string
		patch DepartmentPatch
		want  error
	}{
		{"rename", "dept-a", DepartmentPatch{Name: ptr(" R&D ")}, nil},
		{"set quota", "dept-a", DepartmentPatch{QuotaBytes: ptr(int64(1000))}, nil},
		{"empty patch", "dept-a", DepartmentPatch{}, nil},
		{"keep own name", "dept-a", DepartmentPatch{Name: ptr("Engineering")}, nil},
		{"blank name", "dept-a", DepartmentPatch{Name: ptr("  ")}, errInvalid},
		{"negative quota", "dept-a", DepartmentPatch{QuotaBytes: ptr(int64(-5))}, errInvalid},
		{"name of another department", "dept-a", DepartmentPatch{Name: ptr("Sales")}, ErrConflict},
		{"missing department", "no-such-dept", DepartmentPatch{Name: ptr("X")}, ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.now = t0.Add(7)
			before := f.store.snapshot()
			d, err := f.svc.UpdateDepartment(context.Background(), f.admin, tc.id, tc.patch)
			checkErr(t, "UpdateDepartment", err, tc.want)
			if tc.want != nil {
				if !reflect.DeepEqual(before, f.store.snapshot()) {
					t.Error("rejected UpdateDepartment changed the store")
				}
				return
			}
			want := f.deptA
			if tc.patch.Name != nil {
				want.Name = strings.TrimSpace(*tc.patch.Name)
			}
			if tc.patch.QuotaBytes != nil {
				want.QuotaBytes = *tc.patch.QuotaBytes
			}
			want.UpdatedAt = f.now
			if d != want {
				t.Errorf("UpdateDepartment = %+v, want %+v", d, want)
			}
		})
	}
}

func TestDeleteDepartment(t *testing.T) {
	cases := []struct {
		name  string
		setup func(f *fixture) string
		want  error
	}{
		{"empty department", func(f *fixture) string { return f.deptEmpty.ID }, nil},
		{"department with users", func(f *fixture) string { return f.deptA.ID }, ErrConflict},
		{"department with documents", func(f *fixture) string {
			f.store.departmentHasDocs[f.deptEmpty.ID] = true
			return f.deptEmpty.ID
		}, ErrConflict},
		{"department with a child department", func(f *fixture) string {
			f.store.depts["child"] = Department{ID: "child", Name: "Child", ParentID: f.deptEmpty.ID}
			return f.deptEmpty.ID
		}, ErrConflict},
		{"missing department", func(*fixture) string { return "no-such-dept" }, ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			id := tc.setup(f)
			err := f.svc.DeleteDepartment(ctx, f.admin, id)
			checkErr(t, "DeleteDepartment", err, tc.want)
			if tc.want == ErrConflict {
				if msg := errs.MessageOf(err); msg == "" || msg == ErrConflict.Error() {
					t.Errorf("DeleteDepartment error = %v, want a conflict with a message", err)
				}
			}
			_, getErr := f.svc.Department(ctx, f.admin, id)
			if gone := getErr == ErrNotFound; gone != (tc.want == nil || tc.want == ErrNotFound) {
				t.Errorf("after DeleteDepartment (%v) Department(%q) = %v", err, id, getErr)
			}
		})
	}
}

func TestListDepartmentsScope(t *testing.T) {
	cases := []struct {
		name      string
		actor     string
		page      Page
		want      []string
		wantTotal int64
	}{
		{"admin sees all, by name", "admin", Page{Page: 1, Size: 50}, []string{"Empty", "Engineering", "Sales"}, 3},
		{"admin pages", "admin", Page{Page: 2, Size: 2}, []string{"Sales"}, 3},
		{"dept_admin sees its own", "dept_admin A", Page{Page: 1, Size: 50}, []string{"Engineering"}, 1},
		{"dept_admin's second page is empty", "dept_admin A", Page{Page: 2, Size: 50}, nil, 1},
		{"other dept_admin sees its own", "dept_admin B", Page{Page: 1, Size: 50}, []string{"Sales"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ds, total, err := f.svc.ListDepartments(context.Background(), f.actor(tc.actor), tc.page)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range ds {
				got = append(got, d.Name)
			}
			if !reflect.DeepEqual(got, tc.want) || total != tc.wantTotal {
				t.Errorf("ListDepartments = %q (total %d), want %q (total %d)", got, total, tc.want, tc.wantTotal)
			}
		})
	}
}

func TestPageOffset(t *testing.T) {
	cases := []struct {
		p    Page
		want int
	}{
		{Page{Page: 1, Size: 20}, 0},
		{Page{Page: 2, Size: 20}, 20},
		{Page{Page: 5, Size: 7}, 28},
	}
	for _, tc := range cases {
		if got := tc.p.Offset(); got != tc.want {
			t.Errorf("%+v.Offset() = %d, want %d", tc.p, got, tc.want)
		}
	}
}

func TestRoleValid(t *testing.T) {
	cases := []struct {
		role Role
		want bool
	}{
		{RoleAdmin, true}, {RoleDeptAdmin, true}, {RoleMember, true},
		{"", false}, {"Admin", false}, {"root", false},
	}
	for _, tc := range cases {
		if got := tc.role.Valid(); got != tc.want {
			t.Errorf("Role(%q).Valid() = %v, want %v", tc.role, got, tc.want)
		}
	}
}

// TestDepartmentLine: a department and its ancestors, nearest first, for
// grants to parent departments; remembered once read.
func TestDepartmentLine(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	child, err := f.svc.CreateDepartment(ctx, f.admin, "Child", f.deptA.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	grandchild, err := f.svc.CreateDepartment(ctx, f.admin, "Grandchild", child.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		want []string
	}{
		{"", nil},
		{f.deptA.ID, []string{f.deptA.ID}},
		{grandchild.ID, []string{grandchild.ID, child.ID, f.deptA.ID}},
	} {
		got, err := f.svc.DepartmentLine(ctx, tc.id)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("DepartmentLine(%q) = %v, %v; want %v", tc.id, got, err, tc.want)
		}
	}
	// Remembered: the store is not asked again.
	delete(f.store.depts, child.ID)
	if got, _ := f.svc.DepartmentLine(ctx, grandchild.ID); len(got) != 3 {
		t.Errorf("DepartmentLine after a forgotten parent = %v", got)
	}
}

// TestReaderRoleIsManagedLikeMember: admins and dept_admins create and
// change readers of their departments.
func TestReaderRoleIsManagedLikeMember(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u, err := f.svc.CreateUser(ctx, f.deptAdminA, NewUser{Username: "student", Password: "student-password", Role: RoleReader, DepartmentID: f.deptA.ID})
	if err != nil || u.Role != RoleReader {
		t.Fatalf("dept_admin creating a reader: %+v, %v", u, err)
	}
	member := RoleMember
	if u, err = f.svc.UpdateUser(ctx, f.admin, u.ID, UserPatch{Role: &member}); err != nil || u.Role != RoleMember {
		t.Fatalf("admin promoting a reader: %+v, %v", u, err)
	}
	if _, err := f.svc.CreateUser(ctx, f.deptAdminB, NewUser{Username: "student2", Password: "student-password", Role: RoleReader, DepartmentID: f.deptA.ID}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("dept_admin of another department creating a reader: %v", err)
	}
}
