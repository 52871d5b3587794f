package main

import (
	"encoding/csv"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"docplat/audit"
	"docplat/internal/failpoint"
	"docplat/internal/testdb"
	"docplat/internal/wait"
)

// auditPage is GET /api/v1/admin/audit's answer.
type auditPage struct {
	Items []struct {
		At           time.Time      `json:"at"`
		ActorID      string         `json:"actor_id"`
		Action       string         `json:"action"`
		Target       string         `json:"target"`
		IP           string         `json:"ip"`
		DepartmentID *string        `json:"department_id"`
		Detail       map[string]any `json:"detail"`
	}
	Total int64
}

func (c *client) audit(query url.Values) auditPage {
	c.app.t.Helper()
	var p auditPage
	c.doJSON("GET", "/api/v1/admin/audit?"+query.Encode(), nil, 200, &p)
	return p
}

// auditEntries counts the entries of an action on a target, read straight
// from the database.
func (a *testApp) auditEntries(action audit.Action, target string) int64 {
	a.t.Helper()
	var n int64
	if err := a.db.SQL().QueryRow("SELECT COUNT(*) FROM audit_log WHERE action = ? AND target = ?", string(action), target).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// TestAuditEachActionLeavesExactlyOneEntry walks every recorded action
// through the HTTP API and finds each exactly once in the audit log, with
// its actor, target and the caller's IP; a download of a private document
// arrives through the access stream; dept_admins see their department's
// entries only, members none; the CSV export has what the list has.
func TestAuditEachActionLeavesExactlyOneEntry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		var me struct{ ID string }
		admin.doJSON("GET", "/api/v1/me", nil, 200, &me)

		var dept, other struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Physics", "quota_bytes": 1000}, 201, &dept)
		admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": "Chemistry"}, 201, &other)
		admin.doJSON("PATCH", "/api/v1/admin/departments/"+dept.ID, map[string]any{"quota_bytes": 5000}, 200, nil)
		var u, boss struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "ada", "password": "ada-password", "department_id": dept.ID}, 201, &u)
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "boss", "password": "boss-password", "role": "dept_admin", "department_id": dept.ID}, 201, &boss)
		admin.doJSON("PATCH", "/api/v1/admin/users/"+u.ID, map[string]any{"display_name": "Ada L."}, 200, nil)

		a.anon().doJSON("POST", "/api/v1/auth/login", map[string]string{"username": "  ada ", "password": "wrong-password"}, 401, nil)
		ada := a.login("ada", "ada-password")
		var tok struct{ ID, Token string }
		ada.doJSON("POST", "/api/v1/me/tokens", map[string]any{"name": "ci", "expires_in_s": 3600}, 201, &tok)
		(&client{app: a, token: tok.Token}).doJSON("POST", "/api/v1/auth/logout", nil, 204, nil)

		d := ada.mustUpload("notes.txt", "first", map[string]string{"visibility": "private"})
		ada.doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"title": "Notes"}, 200, nil)
		body, ct := multipartBody("notes.txt", []byte("second"), nil)
		if r := ada.do("PUT", "/api/v1/documents/"+d.ID+"/content", body, map[string]string{"Content-Type": ct}); r.status != 200 {
			t.Fatalf("new version: %d %s", r.status, r.body)
		}
		if r := ada.do("GET", "/api/v1/documents/"+d.ID+"/content?download=1", nil, nil); r.status != 200 {
			t.Fatalf("download: %d %s", r.status, r.body)
		}
		pub := ada.mustUpload("public.txt", "for all", map[string]string{"visibility": "public"})
		if r := ada.do("GET", "/api/v1/documents/"+pub.ID+"/content?download=1", nil, nil); r.status != 200 {
			t.Fatalf("public download: %d", r.status)
		}
		wait.For(t, wait.Limit, "the download to reach the audit log", func() bool { return a.auditEntries(audit.DocumentDownload, d.ID) > 0 })
		ada.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
		ada.doJSON("POST", "/api/v1/documents/"+d.ID+"/restore", nil, 200, nil)
		ada.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
		ada.doJSON("DELETE", "/api/v1/trash/"+d.ID, nil, 204, nil)
		ada.doJSON("POST", "/api/v1/auth/logout", nil, 204, nil)
		admin.doJSON("DELETE", "/api/v1/admin/departments/"+other.ID, nil, 204, nil)
		var temp struct{ ID string }
		admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "temp", "password": "temp-password"}, 201, &temp)
		admin.doJSON("DELETE", "/api/v1/admin/users/"+temp.ID, nil, 204, nil)

		for _, c := range []struct {
			action        audit.Action
			target, actor string
		}{
			{audit.DepartmentCreate, dept.ID, me.ID}, {audit.DepartmentUpdate, dept.ID, me.ID}, {audit.DepartmentDelete, other.ID, me.ID},
			{audit.UserCreate, u.ID, me.ID}, {audit.UserUpdate, u.ID, me.ID}, {audit.UserDelete, temp.ID, me.ID},
			{audit.LoginFailed, "ada", ""}, {audit.LoginSucceeded, u.ID, u.ID}, {audit.Logout, u.ID, u.ID},
			{audit.TokenCreate, tok.ID, u.ID}, {audit.TokenRevoke, tok.ID, u.ID},
			{audit.DocumentCreate, d.ID, u.ID}, {audit.DocumentUpdate, d.ID, u.ID}, {audit.DocumentVersion, d.ID, u.ID},
			{audit.DocumentRestore, d.ID, u.ID}, {audit.DocumentPurge, d.ID, u.ID}, {audit.DocumentDownload, d.ID, u.ID},
		} {
			p := admin.audit(url.Values{"action": {string(c.action)}, "target": {c.target}, "detail": {"1"}})
			if p.Total != 1 || len(p.Items) != 1 {
				t.Errorf("%s on %s: %d entries, want exactly 1", c.action, c.target, p.Total)
				continue
			}
			e := p.Items[0]
			if e.ActorID != c.actor || e.IP != "127.0.0.1" || e.At.IsZero() {
				t.Errorf("%s on %s: actor %q ip %q at %v; want actor %q from 127.0.0.1", c.action, c.target, e.ActorID, e.IP, e.At, c.actor)
			}
		}
		if n := a.auditEntries(audit.DocumentTrash, d.ID); n != 2 { // trashed, restored, trashed again, purged
			t.Errorf("%d document.trash entries, want 2", n)
		}
		if n := a.auditEntries(audit.DocumentDownload, pub.ID); n != 0 {
			t.Errorf("a public document's download was recorded %d times", n)
		}
		if p := admin.audit(url.Values{"action": {string(audit.DepartmentUpdate)}, "target": {dept.ID}, "detail": {"1"}}); len(p.Items) == 1 {
			q, _ := p.Items[0].Detail["quota_bytes"].(map[string]any)
			if q["old"] != float64(1000) || q["new"] != float64(5000) {
				t.Errorf("quota change detail %v, want old 1000 new 5000", p.Items[0].Detail)
			}
		}

		// Newest first, paged, filtered by actor and time.
		all := admin.audit(url.Values{"page_size": {"100"}})
		for i := 1; i < len(all.Items); i++ {
			if all.Items[i].At.After(all.Items[i-1].At) {
				t.Fatalf("entries not newest first at %d", i)
			}
		}
		if p := admin.audit(url.Values{"actor": {u.ID}, "until": {time.Now().Add(-time.Hour).Format(time.RFC3339)}}); p.Total != 0 {
			t.Errorf("until an hour ago: %d entries", p.Total)
		}
		if p := admin.audit(url.Values{"actor": {u.ID}, "since": {time.Now().Add(-time.Hour).Format(time.RFC3339)}}); p.Total < 7 {
			t.Errorf("ada's entries of the last hour: %d", p.Total)
		}

		// dept_admin: its own department only; a member: 403.
		bossC := a.login("boss", "boss-password")
		mine := bossC.audit(url.Values{"page_size": {"100"}, "detail": {"1"}})
		if mine.Total == 0 {
			t.Fatal("the dept_admin sees no entry of its department")
		}
		for _, e := range mine.Items {
			if e.DepartmentID == nil || *e.DepartmentID != dept.ID {
				t.Fatalf("the dept_admin sees an entry of another department: %+v", e)
			}
		}
		if r := bossC.do("GET", "/api/v1/admin/audit?department="+other.ID, nil, nil); r.status != 403 {
			t.Errorf("dept_admin asking for another department: %d", r.status)
		}
		member := a.login("ada", "ada-password")
		if r := member.do("GET", "/api/v1/admin/audit", nil, nil); r.status != 403 || r.errorCode() != "forbidden" {
			t.Errorf("member: %d %s", r.status, r.body)
		}
		if r := a.anon().do("GET", "/api/v1/admin/audit", nil, nil); r.status != 401 {
			t.Errorf("anonymous: %d", r.status)
		}
		for _, q := range []string{"action=nope", "since=yesterday", "format=xml", "since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "page_size=1000"} {
			if r := admin.do("GET", "/api/v1/admin/audit?"+q, nil, nil); r.status != 400 || r.errorCode() != "bad_request" {
				t.Errorf("?%s: %d %s", q, r.status, r.body)
			}
		}

		// The CSV export holds the same entries as the list.
		r := admin.do("GET", "/api/v1/admin/audit?format=csv&actor="+u.ID, nil, nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: %d %s", r.status, r.header.Get("Content-Type"))
		}
		recs, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if want := admin.audit(url.Values{"actor": {u.ID}}).Total; int64(len(recs)-1) != want {
			t.Errorf("csv has %d entries, the list %d", len(recs)-1, want)
		}
	})
}

// TestAuditEntryIsAtomicWithItsChange: a failure after a change's entry
// was written, before its transaction commits, leaves neither the change
// nor the entry (local transactions: departments, users, document
// metadata); in a three-phase-commit write the failure is a crash of the
// documents participant's commit, which recovery redoes: the document
// then exists with exactly one entry.
func TestAuditEntryIsAtomicWithItsChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		cfg := testConfig(t, b)
		cfg.TxnTimeout, cfg.TxnRecover = 300*time.Millisecond, 50*time.Millisecond
		a := startApp(t, cfg)
		admin := a.admin()
		boom := errors.New("injected failure")
		// Parallel tests' entries are told apart by their actor: a random id.
		failOn := func(action audit.Action, actor *client) *failpoint.Crashes {
			var me struct{ ID string }
			actor.doJSON("GET", "/api/v1/me", nil, 200, &me)
			return failpoint.Crash(t, boom, func(scope any) bool {
				e, ok := scope.(audit.Entry)
				return ok && e.Action == action && e.ActorID == me.ID
			}, failpoint.AuditAfterRecord)
		}

		fp := failOn(audit.DepartmentCreate, admin)
		if r := admin.do("POST", "/api/v1/admin/departments", strings.NewReader(`{"name":"Atomic"}`), map[string]string{"Content-Type": "application/json"}); r.status < 500 {
			t.Fatalf("department create with a failing entry: %d %s", r.status, r.body)
		}
		if len(fp.Fired()) != 1 {
			t.Fatal("the failpoint never fired")
		}
		if n := a.countRows("departments WHERE name = 'Atomic'"); n != 0 {
			t.Fatalf("the department exists without its entry")
		}
		if n := a.countRows("audit_log WHERE action = 'department.create'"); n != 0 {
			t.Fatalf("%d department.create entries without a department", n)
		}

		dept, member := setupDepartment(a, "Atom", 0)
		fp = failOn(audit.DepartmentUpdate, admin)
		if r := admin.do("PATCH", "/api/v1/admin/departments/"+dept, strings.NewReader(`{"quota_bytes":77}`), map[string]string{"Content-Type": "application/json"}); r.status < 500 {
			t.Fatalf("quota change with a failing entry: %d %s", r.status, r.body)
		}
		if n := a.countRows("departments WHERE quota_bytes = 77"); n != 0 || a.auditEntries(audit.DepartmentUpdate, dept) != 0 {
			t.Fatal("the quota changed without its entry, or the entry exists without the change")
		}

		d := member.mustUpload("a.txt", "atomic", nil)
		fp = failOn(audit.DocumentUpdate, member)
		if r := member.do("PATCH", "/api/v1/documents/"+d.ID, strings.NewReader(`{"title":"Changed"}`), map[string]string{"Content-Type": "application/json"}); r.status < 500 {
			t.Fatalf("metadata change with a failing entry: %d %s", r.status, r.body)
		}
		var got document
		member.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, &got)
		if got.Title == "Changed" || a.auditEntries(audit.DocumentUpdate, d.ID) != 0 {
			t.Fatalf("title %q with %d entries after the failure", got.Title, a.auditEntries(audit.DocumentUpdate, d.ID))
		}

		// Three-phase commit: the crash is in the documents participant's
		// commit, after the commit point; recovery applies it, entry and all.
		fp = failOn(audit.DocumentCreate, member)
		body, ct := multipartBody("late.txt", []byte("late"), nil)
		r := member.do("POST", "/api/v1/documents", body, map[string]string{"Content-Type": ct, "Idempotency-Key": "audit-atomic-0001"})
		if len(fp.Fired()) != 1 {
			t.Fatalf("the failpoint never fired (upload: %d %s)", r.status, r.body)
		}
		wait.For(t, wait.Limit, "every branch to be decided", func() bool { return a.inDoubt() == 0 })
		wait.For(t, wait.Limit, "the upload to be applied", func() bool {
			return a.countRows("documents WHERE filename = 'late.txt'") == 1
		})
		var id string
		if err := a.db.SQL().QueryRow("SELECT id FROM documents WHERE filename = 'late.txt'").Scan(&id); err != nil {
			t.Fatal(err)
		}
		if n := a.auditEntries(audit.DocumentCreate, id); n != 1 {
			t.Fatalf("the document recovered after the crash has %d document.create entries, want 1", n)
		}
		if docs, entries := a.countRows("documents"), a.countRows("audit_log WHERE action = 'document.create'"); docs != entries {
			t.Fatalf("%d documents, %d document.create entries", docs, entries)
		}
	})
}
