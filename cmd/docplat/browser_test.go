package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"docplat/accounts"
	"docplat/internal/testdb"
)

// Browser tests: each web/e2e/*.test.mjs script drives Debian's chromium
// with playwright-core against a docplat this test starts (embedded mode,
// the whole app in-process), and fails on the first broken expectation.
// Screenshots of every screen land in web/e2e/screenshots/ (git-ignored).
const (
	e2eDir   = "../../web/e2e"
	chromium = "/usr/bin/chromium"
)

// The people the scenarios log in as; their names are what the UI must show instead of ids.
const (
	teacherUser     = "teacher"
	teacherPassword = "teacher-password-1"
	teacherName     = "王老师"
	departmentName  = "语文组"
)

func TestBrowser(t *testing.T) {
	node := browserPrerequisites(t)
	scripts, err := filepath.Glob(filepath.Join(e2eDir, "*.test.mjs"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no browser scenarios in %s (%v)", e2eDir, err)
	}
	shots, err := filepath.Abs(filepath.Join(e2eDir, "screenshots"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, script := range scripts {
		name := filepath.Base(script)
		t.Run(name, func(t *testing.T) {
			a := newTestApp(t, testdb.SQLite)
			seedPeople(t, a)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, name)
			cmd.Dir = e2eDir
			cmd.Env = append(os.Environ(),
				"DOCPLAT_URL="+a.srv.URL,
				"DOCPLAT_CHROMIUM="+chromium,
				"DOCPLAT_SCREENSHOTS="+shots,
				"DOCPLAT_ADMIN_PASSWORD="+adminPassword,
				"DOCPLAT_TEACHER="+teacherUser,
				"DOCPLAT_TEACHER_PASSWORD="+teacherPassword,
				"DOCPLAT_TEACHER_NAME="+teacherName,
				"DOCPLAT_DEPARTMENT_NAME="+departmentName,
			)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, out)
			}
			t.Logf("%s", out)
		})
	}
}

// browserPrerequisites returns node's path, or skips (fails when CI is set)
// when node, chromium or playwright-core is missing.
func browserPrerequisites(t *testing.T) string {
	t.Helper()
	missing := func(what string) {
		if os.Getenv("CI") == "" {
			t.Skipf("%s is missing: scripts/test-deps.sh installs it; set CI to make this a failure", what)
		}
		t.Fatalf("CI is set but %s is missing: scripts/test-deps.sh installs it", what)
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node")
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("chromium (" + chromium + ")")
	}
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "playwright-core", "package.json")); err != nil {
		missing("playwright-core (web/e2e/node_modules)")
	}
	return node
}

// seedPeople makes the department and the teacher the scenarios log in as.
func seedPeople(t *testing.T, a *testApp) {
	t.Helper()
	var dept struct{ ID string }
	a.admin().doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": departmentName, "quota_bytes": 1 << 30}, 201, &dept)
	a.admin().doJSON("POST", "/api/v1/admin/users", map[string]any{
		"username": teacherUser, "password": teacherPassword, "display_name": teacherName,
		"role": string(accounts.RoleMember), "department_id": dept.ID,
	}, 201, nil)
}
