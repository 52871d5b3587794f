package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"docplat/docs"
	"docplat/internal/testdb"
	"docplat/internal/testmariadb"
	"docplat/internal/wait"
)

// TestMain stops the MariaDB primary and replica the replica test started
// (testmariadb.Shared), once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	testmariadb.StopShared()
	os.Exit(code)
}

// TestReplicaReads runs docplat on a MariaDB primary with a replica (and a
// second replica that is down) and stops the replica's SQL thread: with a
// lag bound too long to notice (1 min), the revision fence and the
// read-your-writes marks alone must keep the answers right.
//
//   - a search is answered by the replica (Mroonga's index replicated);
//   - a document changed on the primary is read, through the service, at
//     its new revision although the replica still has the old one: the
//     cache miss's replica answer is older than the write's tombstone and
//     is read again from the primary; no cache level holds the old one;
//   - the writer's next listing shows their new document (read from the
//     primary), while another user's listing, from the lagging replica, does
//     not show it yet;
//   - /readyz stays ready, degraded, naming the dead replica.
func TestReplicaReads(t *testing.T) {
	t.Parallel()
	pair := testmariadb.Shared(t)
	name := pair.Database(t)
	down := fmt.Sprintf("root@tcp(127.0.0.1:%d)/%s", closedPort(t), name)
	cfg := testConfig(t, testdb.MariaDB)
	cfg.Store.DB.MySQLDSN = pair.PrimaryDSN(name)
	cfg.Store.DB.ReplicaDSNs = []string{pair.ReplicaDSN(name), down}
	cfg.Store.DB.ReplicaMaxLag = time.Minute
	a := startApp(t, cfg)
	replica := a.db.Replicas()[0].Name
	wait.For(t, wait.Limit, "the replica to serve", func() bool { return a.db.Replicas()[0].Healthy })
	routed := func(to string) float64 { return gatherLabeled(a, "docplat_db_reads_routed_total", to) }

	admin := a.admin()
	admin.doJSON("POST", "/api/v1/admin/users", map[string]any{"username": "bob", "password": "bob-password"}, 201, nil)
	bob := a.login("bob", "bob-password")
	d := admin.mustUpload("notes.txt", "light and water", map[string]string{"title": "Photosynthesis notes", "visibility": "public"})
	pair.CaughtUp(t)

	// A search by a reader who wrote nothing: the replica answers.
	before := routed(replica)
	if got := ids(bob.search("q=photosynthesis")); !slices.Equal(got, []string{d.ID}) {
		t.Fatalf("bob's search: %v, want [%s]", got, d.ID)
	}
	if routed(replica) <= before {
		t.Errorf("the search was not answered by the replica (docplat_db_reads_routed_total{to=%q} stayed %v)", replica, before)
	}

	// The fence: the replica stops applying; a change commits on the primary.
	pair.StopSQLThread(t)
	t.Cleanup(func() { pair.StartSQLThread(t) })
	var changed document
	admin.doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"title": "Photosynthesis, revised"}, 200, &changed)
	if old := replicaRevision(t, pair, name, d.ID); old >= changed.Revision {
		t.Fatalf("the replica has revision %d of the document, want one older than %d (its SQL thread is stopped)", old, changed.Revision)
	}
	fenced := docs.ReplicaFencedReads()
	var got document
	bob.doJSON("GET", "/api/v1/documents/"+d.ID, nil, 200, &got)
	if got.Revision != changed.Revision || got.Title != "Photosynthesis, revised" {
		t.Errorf("bob read revision %d %q, want %d %q", got.Revision, got.Title, changed.Revision, "Photosynthesis, revised")
	}
	if docs.ReplicaFencedReads() == fenced {
		t.Errorf("the read did not meet the fence: the replica was not asked, or its old revision was not refused")
	}
	for level, v := range cacheVersions(a, d.ID) {
		if v != -1 && v/2 != int64(changed.Revision) { // a fence: 2*revision (+1 once the text settled)
			t.Errorf("the cache's %s holds revision %d (fence %d), want %d or nothing", level, v/2, v, changed.Revision)
		}
	}

	// A client's own knowledge fences too: an instance whose cache never
	// saw the tombstones (its own embedded Redis: as after a Redis
	// failover that lost them) is asked with If-None-Match of the newest
	// revision; the replica's older one is not answered.
	other := startApp(t, cfg)
	admin.doJSON("PATCH", "/api/v1/documents/"+d.ID, map[string]any{"title": "Photosynthesis, third"}, 200, &changed)
	bobThere := &client{app: other, token: bob.token}
	if r := bobThere.do("GET", "/api/v1/documents/"+d.ID, nil, nil); r.status != 200 || !strings.Contains(string(r.body), `"revision":`+fmt.Sprint(replicaRevision(t, pair, name, d.ID))) {
		t.Fatalf("the second instance without a hint: %d %s; want the replica's revision (the scenario needs its cache empty)", r.status, r.body)
	}
	if r := bobThere.do("GET", "/api/v1/documents/"+d.ID, nil, map[string]string{"If-None-Match": fmt.Sprintf(`"r%d"`, changed.Revision)}); r.status != 304 {
		t.Errorf("the second instance asked with If-None-Match \"r%d\": %d %s; want 304 (read from the primary)", changed.Revision, r.status, r.body)
	}

	// Read-your-writes: the writer's listing shows their new document at
	// once; bob's, from the lagging replica, does not yet.
	fresh := admin.mustUpload("leaf.txt", "chlorophyll", map[string]string{"title": "Chlorophyll", "visibility": "public"})
	primaryBefore := routed("primary")
	if l := admin.search("sort=created_at"); !slices.Contains(ids(l), fresh.ID) {
		t.Errorf("the writer's listing %v misses the document they just uploaded (%s)", ids(l), fresh.ID)
	}
	if routed("primary") <= primaryBefore {
		t.Errorf("the writer's listing was not read from the primary")
	}
	if l := bob.search("sort=created_at"); slices.Contains(ids(l), fresh.ID) || !slices.Contains(ids(l), d.ID) {
		t.Errorf("bob's listing %v: want the replica's (with %s, not yet %s)", ids(l), d.ID, fresh.ID)
	}

	// Readiness names the dead replica without failing.
	r := a.anon().do("GET", "/readyz", nil, nil)
	var ready struct {
		Status   string
		Degraded []string
	}
	_ = json.Unmarshal(r.body, &ready)
	deadName := a.db.Replicas()[1].Name
	if r.status != 200 || ready.Status != "degraded" || !slices.Contains(ready.Degraded, "replica "+deadName) || slices.Contains(ready.Degraded, "replica "+replica) {
		t.Errorf("/readyz: %d %s; want 200, degraded by %q only among the replicas", r.status, r.body, "replica "+deadName)
	}
}

// replicaRevision reads a document's revision on the replica itself.
func replicaRevision(t *testing.T, pair *testmariadb.Pair, db, id string) int {
	t.Helper()
	conn, err := sql.Open("mysql", pair.ReplicaDSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var rev int
	if err := conn.QueryRow("SELECT revision FROM documents WHERE id = ?", id).Scan(&rev); err != nil {
		t.Fatalf("reading the replica: %v", err)
	}
	return rev
}

func cacheVersions(a *testApp, id string) map[string]int64 {
	l1, l2 := a.cache.Version(context.Background(), "doc:"+id)
	return map[string]int64{"L1": l1, "L2": l2}
}

// gatherLabeled is the value of name's series whose only label is label.
func gatherLabeled(a *testApp, name, label string) float64 {
	mfs, err := a.reg.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
