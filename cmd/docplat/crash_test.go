package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"docplat/internal/failpoint"
	"docplat/internal/testdb"
	"docplat/internal/wait"
	"docplat/txn"
)

// Every step of the protocol at which the document service's coordinator,
// its documents participant or the stats participant can fail.
var uploadCrashSteps = []string{
	"coord.before-log-started", "coord.after-log-started", "coord.before-cancommit", "coord.after-cancommit",
	"coord.before-log-precommit", "coord.after-log-precommit", "coord.before-precommit", "coord.after-precommit",
	"coord.before-log-committing", "coord.after-log-committing", "coord.before-docommit", "coord.after-docommit",
	"documents.before-vote-persist", "documents.after-vote-persist", "documents.before-precommit-persist",
	"documents.after-precommit-persist", "documents.before-commit-persist", "documents.after-commit-persist",
	"stats.before-vote-persist", "stats.after-vote-persist", "stats.before-precommit-persist",
	"stats.after-precommit-persist", "stats.before-commit-persist", "stats.after-commit-persist",
}

// TestUploadCrashMatrixKeepsDocumentsAndUsageAtomic injects a failure at
// every step of an upload's three-phase commit, through the real HTTP API
// and the real document and stats participants, and checks once the
// timeouts and recovery have run: a document exists if and only if its
// bytes are counted in its department's usage (in the stats service and in
// the admin API), nothing stays reserved, an acknowledged upload is never
// lost, and no branch stays in doubt beyond the timeouts.
func TestUploadCrashMatrixKeepsDocumentsAndUsageAtomic(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		for _, step := range uploadCrashSteps {
			t.Run(step, func(t *testing.T) {
				t.Parallel()
				cfg := testConfig(t, b)
				cfg.TxnTimeout, cfg.TxnRecover = 300*time.Millisecond, 50*time.Millisecond
				a := startApp(t, cfg)
				fp := failpoint.Crash(t, txn.ErrCrash, a.owns, failpoint.TxnStep(step))
				dept, member := setupDepartment(a, "Crash", 10000)
				upload := func() (response, document) {
					body, ct := multipartBody("crash.txt", []byte(strings.Repeat("c", 100)), nil)
					r := member.do("POST", "/api/v1/documents", body, map[string]string{"Content-Type": ct, "Idempotency-Key": "crash-matrix-1"})
					var d document
					_ = json.Unmarshal(r.body, &d)
					return r, d
				}
				r, d := upload()
				if len(fp.Fired()) == 0 {
					t.Fatalf("failpoint %s never fired", step)
				}
				if r.status != 201 && r.status != 503 {
					t.Fatalf("upload with a crash at %s: %d %s", step, r.status, r.body)
				}
				if r.status == 201 {
					// Acknowledged: readable at once, before any recovery ran.
					member.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, nil)
				}
				start := time.Now()
				wait.For(t, wait.Limit, "every branch to be decided", func() bool { return a.inDoubt() == 0 })
				settled := time.Since(start)
				if settled > cfg.TxnTimeout+2*time.Second {
					t.Errorf("in doubt for %v, longer than the timeouts allow", settled)
				}
				docs, bytes, reserved, statsDocs, statsBytes, adminBytes := a.usageEverywhere(dept)
				if docs != statsDocs || bytes != statsBytes || bytes != adminBytes || reserved != 0 {
					t.Fatalf("not atomic after a crash at %s: documents %d (%d bytes), stats %d documents %d bytes (%d reserved), admin %d bytes",
						step, docs, bytes, statsDocs, statsBytes, reserved, adminBytes)
				}
				// The audit entry is written with the document, in the documents
				// participant's commit: one per document, none without one.
				if entries := a.countRows("audit_log WHERE action = 'document.create'"); entries != docs {
					t.Fatalf("after a crash at %s: %d documents, %d document.create entries", step, docs, entries)
				}
				if r.status == 201 {
					member.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, nil) // acknowledged: never lost
				} else if docs != 0 && strings.Contains(string(r.body), "nothing was changed") {
					t.Fatalf("the client was told 503 (nothing changed) but the document exists: %s", r.body)
				}
				// A retry under the same Idempotency-Key never uploads twice:
				// it gets the committed outcome, or runs the upload if none
				// committed (or is told the first is in doubt).
				retry, rd := upload()
				after, _, _, _, _, _ := a.usageEverywhere(dept)
				switch {
				case docs == 1 && (retry.status != 201 || after != 1 || (r.status == 201 && rd.ID != d.ID)):
					t.Fatalf("retry after a committed upload: %d %s, %d document(s)", retry.status, retry.body, after)
				case docs == 0 && !(retry.status == 201 && after == 1 || retry.status == 409 && after == 0):
					t.Fatalf("retry after an aborted upload: %d %s, %d document(s)", retry.status, retry.body, after)
				}
				t.Logf("%s: status %d, %d document(s), decided %v after the request; retry %d", step, r.status, docs, settled.Round(time.Millisecond), retry.status)
				// And the service goes on.
				member.mustUpload("after.txt", "after the crash", nil)
			})
		}
	})
}

// inDoubt counts undecided branches and unfinished coordinator rows.
func (a *testApp) inDoubt() int64 {
	var n, m, k int64
	a.db.SQL().QueryRow("SELECT COUNT(*) FROM txn_participant WHERE state IN ('ready','precommitted')").Scan(&n)
	a.db.SQL().QueryRow("SELECT COUNT(*) FROM txn_coordinator WHERE state IN ('started','precommit','committing','aborting')").Scan(&k)
	a.stats.DB().Raw("SELECT COUNT(*) FROM txn_participant WHERE state IN ('ready','precommitted')").Scan(&m)
	return n + m + k
}

// usageEverywhere reads a department's usage from every place that holds it.
func (a *testApp) usageEverywhere(dept string) (docs, bytes, reserved, statsDocs, statsBytes, adminBytes int64) {
	a.db.SQL().QueryRow(`SELECT COUNT(DISTINCT d.id), COALESCE(SUM(v.size), 0) FROM documents d
		JOIN document_versions v ON v.document_id = d.id WHERE d.department_id = ?`, dept).Scan(&docs, &bytes)
	a.db.SQL().QueryRow("SELECT bytes_used FROM departments WHERE id = ?", dept).Scan(&adminBytes)
	a.stats.DB().Raw("SELECT documents, bytes_used, reserved_bytes FROM department_usage WHERE department_id = ?", dept).
		Row().Scan(&statsDocs, &statsBytes, &reserved)
	return
}
