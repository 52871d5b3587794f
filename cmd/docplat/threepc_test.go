package main

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"docplat/events"
	"docplat/internal/testdb"
	"docplat/internal/wait"
	"docplat/stats"
)

type deptUsage struct {
	DepartmentID string `json:"department_id"`
	Documents    int64  `json:"documents"`
	BytesUsed    int64  `json:"bytes_used"`
	QuotaBytes   int64  `json:"quota_bytes"`
}

func (c *client) usage(dept string) deptUsage {
	c.app.t.Helper()
	var out struct{ Items []deptUsage }
	c.doJSON("GET", "/api/v1/stats/departments", nil, 200, &out)
	for _, u := range out.Items {
		if u.DepartmentID == dept {
			return u
		}
	}
	return deptUsage{DepartmentID: dept}
}

// setupDepartment creates a department with quota and a member in it.
func setupDepartment(a *testApp, name string, quota int64) (string, *client) {
	admin := a.admin()
	var d struct{ ID string }
	admin.doJSON("POST", "/api/v1/admin/departments", map[string]any{"name": name, "quota_bytes": quota}, 201, &d)
	user := "u" + strings.ToLower(name)
	admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": user, "password": user + "-password", "department_id": d.ID}, 201, nil)
	return d.ID, a.login(user, user+"-password")
}

// TestUploadsRacingForTheLastBytesNeverOvershootTheQuota: concurrent
// uploads through the whole stack (3PC across documents and stats): exactly
// as many as fit succeed, the rest get 409 quota_exceeded, and documents,
// the admin API and the stats service agree on the usage.
func TestUploadsRacingForTheLastBytesNeverOvershootTheQuota(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		dept, member := setupDepartment(a, "Race", 1000)
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		for i := range 20 {
			wg.Go(func() {
				// A 503 (shed by admission or the lock on a loaded machine)
				// changed nothing: retried, as the contract tells clients.
				r, _ := member.upload(fmt.Sprintf("r%d.txt", i), []byte(strings.Repeat("x", 99)+fmt.Sprint(i%10)), nil)
				for retry := 0; r.status == 503 && retry < 20; retry++ {
					time.Sleep(100 * time.Millisecond)
					r, _ = member.upload(fmt.Sprintf("r%d.txt", i), []byte(strings.Repeat("x", 99)+fmt.Sprint(i%10)), nil)
				}
				if r.status == 409 && r.errorCode() != "quota_exceeded" {
					t.Errorf("409 with code %s", r.errorCode())
				}
				mu.Lock()
				statuses[r.status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if statuses[201] != 10 || statuses[409] != 10 {
			t.Fatalf("statuses = %v, want 10 created and 10 quota_exceeded", statuses)
		}
		u := a.admin().usage(dept)
		var docsUsed int64
		a.db.SQL().QueryRow("SELECT COALESCE(SUM(size),0) FROM documents WHERE department_id = ?", dept).Scan(&docsUsed)
		if u.BytesUsed != 1000 || u.Documents != 10 || docsUsed != 1000 {
			t.Fatalf("stats usage %+v, documents hold %d bytes; want 1000 bytes in 10 documents", u, docsUsed)
		}
	})
}

// TestDeleteAndNewVersionKeepUsageInStep: a new version adds its bytes, a
// delete gives all of the document's bytes back.
func TestDeleteAndNewVersionKeepUsageInStep(t *testing.T) {
	a := newTestApp(t, testdb.SQLite)
	dept, member := setupDepartment(a, "Step", 0)
	d := member.mustUpload("a.txt", "12345", nil)
	body, ct := multipartBody("a.txt", []byte("1234567890"), nil)
	if r := member.do("PUT", "/api/v1/documents/"+d.ID+"/content", body, map[string]string{"Content-Type": ct}); r.status != 200 {
		t.Fatalf("new version: %d %s", r.status, r.body)
	}
	if u := a.admin().usage(dept); u.BytesUsed != 15 || u.Documents != 1 {
		t.Fatalf("after a new version: %+v", u)
	}
	member.doJSON("DELETE", "/api/v1/documents/"+d.ID, nil, 204, nil)
	if u := a.admin().usage(dept); u.BytesUsed != 15 || u.Documents != 1 {
		t.Fatalf("in the trash (still counted): %+v", u)
	}
	member.doJSON("DELETE", "/api/v1/trash/"+d.ID, nil, 204, nil)
	if u := a.admin().usage(dept); u.BytesUsed != 0 || u.Documents != 0 {
		t.Fatalf("after the purge: %+v", u)
	}
}

// TestAccessCountsReachTheStatsService: reads become counted views and
// downloads (batched from the access log), visible in the contract's
// stats endpoints; department usage is for administrators only.
func TestAccessCountsReachTheStatsService(t *testing.T) {
	a := newTestApp(t, testdb.SQLite)
	_, member := setupDepartment(a, "Reads", 0)
	d := member.mustUpload("popular.txt", "read me", map[string]string{"visibility": "public"})
	other := member.mustUpload("other.txt", "less popular", map[string]string{"visibility": "public"})
	anon := a.anon()
	for range 5 {
		anon.do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil)
	}
	anon.do("GET", "/api/v1/documents/"+d.ID+"/content?download=1", nil, nil)
	anon.do("GET", "/api/v1/documents/"+other.ID+"/content", nil, nil)
	var st struct {
		Views, Downloads int64
		LastAccessAt     *string `json:"last_access_at"`
		Daily            []struct{ Date string }
	}
	wait.For(t, wait.Limit, "the counters", func() bool {
		anon.doJSON("GET", "/api/v1/documents/"+d.ID+"/stats", nil, 200, &st)
		return st.Views == 5 && st.Downloads == 1
	})
	if st.LastAccessAt == nil || len(st.Daily) != 1 {
		t.Fatalf("stats = %+v", st)
	}
	var top struct {
		Items []struct {
			Document struct{ ID string }
			Views    int64
		}
	}
	wait.For(t, wait.Limit, "the other document's view", func() bool {
		anon.doJSON("GET", "/api/v1/stats/top?window=1h&limit=10", nil, 200, &top)
		return len(top.Items) == 2
	})
	if top.Items[0].Document.ID != d.ID || top.Items[0].Views != 5 {
		t.Fatalf("top = %+v", top.Items)
	}
	for _, bad := range []string{"window=2h", "limit=0", "limit=101", "limit=x"} {
		anon.doJSON("GET", "/api/v1/stats/top?"+bad, nil, 400, nil)
	}
	member.doJSON("GET", "/api/v1/stats/departments", nil, 403, nil)
	anon.doJSON("GET", "/api/v1/documents/nosuchdoc/stats", nil, 404, nil)
}

// TestStatsServiceAsItsOwnProcess runs the stats service as `docplat stats`
// does (its own MariaDB database and HTTP server) and the document service
// against it over HTTP: uploads, the quota vote, usage and counters.
func TestStatsServiceAsItsOwnProcess(t *testing.T) {
	const secret = "internal-secret-for-tests"
	broker, err := events.StartBroker(t.Context(), events.BrokerConfig{Topic: "docplat.access"}) // as `docplat kafka` runs it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	statsCfg := testStatsConfig(t, testdb.MariaDB)
	statsCfg.InternalSecret, statsCfg.Stream.Brokers, statsCfg.Stream.SessionTimeout = secret, broker.Addrs(), time.Second
	statsSvc, ss, err := stats.OpenServer(t.Context(), statsCfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { statsSvc.Close() })
	statsSrv := httptest.NewServer(ss.Handler())
	t.Cleanup(statsSrv.Close)
	runCtx, stop := contextWithCancel()
	bg := ss.Run(runCtx)
	t.Cleanup(func() { stop(); bg.Wait() })

	cfg := testConfig(t, testdb.MariaDB)
	cfg.Stats.DB.MySQLDSN = ""
	cfg.Stats.URL, cfg.InternalSecret, cfg.Stream.Brokers = statsSrv.URL, secret, broker.Addrs()
	a := startApp(t, cfg)
	ss.Coordinator().Base = a.srv.URL // the stats process asks the document service on timeouts

	dept, member := setupDepartment(a, "Remote", 100)
	d := member.mustUpload("remote.txt", strings.Repeat("r", 60), map[string]string{"visibility": "public"})
	if r, _ := member.upload("big.txt", []byte(strings.Repeat("b", 60)), nil); r.status != 409 || r.errorCode() != "quota_exceeded" {
		t.Fatalf("over quota through the remote stats service: %d %s", r.status, r.body)
	}
	if u := a.admin().usage(dept); u.BytesUsed != 60 || u.Documents != 1 || u.QuotaBytes != 100 {
		t.Fatalf("remote usage = %+v", u)
	}
	a.anon().do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil)
	wait.For(t, wait.Limit, "the forwarded view", func() bool {
		var st struct{ Views int64 }
		a.anon().doJSON("GET", "/api/v1/documents/"+d.ID+"/stats", nil, 200, &st)
		return st.Views == 1
	})
	// The internal endpoints refuse callers without the secret.
	if r := a.anon().do("GET", "/internal/txn/coordinator/status?txid=x", nil, nil); r.status != 401 {
		t.Fatalf("internal endpoint without the secret: %d", r.status)
	}
}

// TestReconcileRestoresUsageAfterAHeuristicOutcome: after a partition made
// the stats service count wrongly, `docplat reconcile` sets usage back to
// what the documents hold.
func TestReconcileRestoresUsageAfterAHeuristicOutcome(t *testing.T) {
	a := newTestApp(t, testdb.SQLite)
	dept, member := setupDepartment(a, "Heal", 0)
	member.mustUpload("a.txt", "twelve bytes", nil)
	a.stats.DB().Exec("UPDATE department_usage SET bytes_used = 999, documents = 7 WHERE department_id = ?", dept)
	env := func(string) (string, bool) { return "", false }
	if err := run(t.Context(), []string{"reconcile", "--data-dir", a.cfg.Store.DB.DataDir, "--log-level", "error"}, env); err != nil {
		t.Fatal(err)
	}
	if u := a.admin().usage(dept); u.BytesUsed != 12 || u.Documents != 1 {
		t.Fatalf("after reconcile: %+v", u)
	}
}
