package main

import (
	"net/http"
	"strings"
	"testing"

	"docplat/internal/testdb"
)

// TestDirectoryNamesPeopleAndDepartments: the ids a document carries come
// back as names for any signed-in user; unknown ids are left out, anonymous
// callers are refused, and a request is bounded.
func TestDirectoryNamesPeopleAndDepartments(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		var dept struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "语文组"}, 201, &dept)
		var teacher, plain struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{
			"username": "teacher", "password": "teacher-pass", "display_name": "王老师", "department_id": dept.ID,
		}, 201, &teacher)
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "student", "password": "student-pass"}, 201, &plain)
		doc := a.login("teacher", "teacher-pass").mustUpload("a.txt", "hello", map[string]string{"visibility": "public"})

		// A reader of the document, not an administrator, resolves its ids.
		var d struct {
			Users       map[string]string
			Departments map[string]string
		}
		student := a.login("student", "student-pass")
		student.doJSON("GET", "/api/v1/directory?ids="+doc.OwnerID+","+doc.DepartmentID+",nosuchid&ids="+plain.ID, nil, 200, &d)
		if d.Users[teacher.ID] != "王老师" || d.Departments[dept.ID] != "语文组" || len(d.Users) != 2 || len(d.Departments) != 1 {
			t.Fatalf("directory = %+v (owner %s, department %s)", d, doc.OwnerID, doc.DepartmentID)
		}
		// A user created without a display name is named as created (the typed username).
		if d.Users[plain.ID] != "student" {
			t.Errorf("user without a display name: %q, want its username", d.Users[plain.ID])
		}

		// ?username= finds one colleague by the exact username (any case or padding), nobody else.
		var byName struct{ Users, Departments map[string]string }
		student.doJSON("GET", "/api/v1/directory?username=%20Teacher", nil, 200, &byName)
		if len(byName.Users) != 1 || byName.Users[teacher.ID] != "王老师" || len(byName.Departments) != 0 {
			t.Errorf("username=Teacher: %+v, want only %s", byName, teacher.ID)
		}
		for _, q := range []string{"teach", "nobody", ""} {
			var none struct{ Users map[string]string }
			student.doJSON("GET", "/api/v1/directory?username="+q, nil, 200, &none)
			if len(none.Users) != 0 {
				t.Errorf("username=%q: %+v, want nobody", q, none)
			}
		}
		var former struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "former", "password": "former-pass"}, 201, &former)
		admin.doJSON("PATCH", "/api/v1/admin/users/"+former.ID, map[string]any{"disabled": true}, 200, nil)
		var disabled struct{ Users map[string]string }
		student.doJSON("GET", "/api/v1/directory?username=former", nil, 200, &disabled)
		if len(disabled.Users) != 0 {
			t.Errorf("a disabled user offered: %+v", disabled)
		}
		if r := a.anon().do("GET", "/api/v1/directory?username=teacher", nil, nil); r.status != http.StatusUnauthorized {
			t.Errorf("anonymous by username: %d %s, want 401", r.status, r.body)
		}

		if r := a.anon().do("GET", "/api/v1/directory?ids="+teacher.ID, nil, nil); r.status != http.StatusUnauthorized {
			t.Errorf("anonymous: %d %s, want 401", r.status, r.body)
		}
		many := strings.TrimSuffix(strings.Repeat(teacher.ID+",", 101), ",")
		if r := student.do("GET", "/api/v1/directory?ids="+many, nil, nil); r.status != http.StatusBadRequest || r.errorCode() != "bad_request" {
			t.Errorf("101 ids: %d %s, want 400 bad_request", r.status, r.body)
		}
	})
}
