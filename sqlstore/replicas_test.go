package sqlstore_test

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"docplat/accounts"
	"docplat/blob"
	"docplat/docs"
	"docplat/internal/testdb"
	"docplat/internal/testmariadb"
	"docplat/internal/wait"
	"docplat/sqlstore"
)

// The replica tests share the package's primary and replica
// (testmariadb.Shared), each in a database of its own; they stop the
// replica's SQL thread, so they never run in parallel with each other.
func TestMain(m *testing.M) {
	code := m.Run()
	testmariadb.StopShared()
	os.Exit(code)
}

// replicaEnv opens a migrated database on the pair's primary with its
// replica (and the extra replica DSNs) and waits until the replica serves.
func replicaEnv(t *testing.T, maxLag time.Duration, extra ...string) (*env, *testmariadb.Pair, *prometheus.Registry) {
	t.Helper()
	pair := testmariadb.Shared(t)
	name := pair.Database(t)
	reg := prometheus.NewRegistry()
	ctx := t.Context()
	db, err := sqlstore.OpenReady(ctx, sqlstore.Config{MySQLDSN: pair.PrimaryDSN(name), DataDir: t.TempDir(), MaxOpenConns: 8,
		ReplicaDSNs: append([]string{pair.ReplicaDSN(name)}, extra...), ReplicaMaxLag: maxLag, Registerer: reg}, true)
	if err != nil {
		t.Fatalf("OpenReady: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	bs, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The first check may have run before the migrations reached the replica.
	wait.For(t, wait.Limit, "the replica to serve", func() bool { return db.Replicas()[0].Healthy })
	return &env{t: t, backend: testdb.MariaDB, ctx: ctx, db: db, blobs: bs}, pair, reg
}

// replicaList lists as a search does (docs.MayReadReplica) and says
// whether a replica answered.
func replicaList(t *testing.T, e *env, a docs.Actor, q docs.Query) ([]string, bool) {
	t.Helper()
	ctx, route := docs.MayReadReplica(e.ctx)
	q.Page, q.Size = 1, 100
	items, _, err := e.db.Documents().List(ctx, a, q)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var ids []string
	for _, d := range items {
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	return ids, route.FromReplica()
}

func TestReplicaAnswersFullTextSearches(t *testing.T) {
	e, pair, reg := replicaEnv(t, time.Minute)
	byName, admin := searchCorpus(t, e)
	pair.CaughtUp(t)
	name := e.db.Replicas()[0].Name
	for _, tc := range []struct {
		terms []string
		sort  docs.Sort
		want  []string
	}{
		{[]string{"缓存"}, docs.SortRelevance, []string{"zh-cache"}}, // ranked: Groonga's select through mroonga_command
		{[]string{"文档", "设计"}, docs.SortRelevance, []string{"zh-system"}},
		{[]string{"cache"}, docs.SortCreated, []string{"en-manual", "en-title-cache"}}, // SQL MATCH on the Mroonga table
		{[]string{"kubernetes"}, docs.SortRelevance, []string{"k8s"}},
	} {
		before := metric(t, reg, "docplat_db_reads_routed_total", name)
		got, fromReplica := replicaList(t, e, admin, docs.Query{Terms: tc.terms, Sort: tc.sort})
		var want []string
		for _, n := range tc.want {
			want = append(want, byName[n])
		}
		slices.Sort(want)
		if !fromReplica || !slices.Equal(got, want) {
			t.Errorf("search %v: replica answered %t with %v, want the replica with %v", tc.terms, fromReplica, got, want)
		}
		if after := metric(t, reg, "docplat_db_reads_routed_total", name); after != before+1 {
			t.Errorf("search %v: docplat_db_reads_routed_total{to=%q} went from %v to %v, want +1", tc.terms, name, before, after)
		}
	}
	// Without the docs layer's permission a read stays on the primary.
	if _, err := e.db.Documents().Get(e.ctx, byName["k8s"]); err != nil {
		t.Fatal(err)
	}
	ctx, route := docs.MayReadReplica(e.ctx)
	if _, err := e.db.Documents().Get(docs.PrimaryOnly(ctx), byName["k8s"]); err != nil || route.FromReplica() {
		t.Errorf("Get under PrimaryOnly: err %v, from the replica %t; want the primary", err, route.FromReplica())
	}
	if e.db.SearchFallbacks() != 0 {
		t.Errorf("%d searches fell back to the SQL form on the replica; want Groonga's", e.db.SearchFallbacks())
	}
}

// TestReplicaSkippedWhenLaggingOrDead: a replica whose SQL thread stops is
// skipped once its heartbeat lag passes the bound (its reads go to the
// primary, /readyz's check and the metrics name it), and serves again once
// it catches up; a replica that does not answer is skipped from the start.
func TestReplicaSkippedWhenLaggingOrDead(t *testing.T) {
	dead := fmt.Sprintf("root@tcp(127.0.0.1:%d)/nothing", closedPort(t))
	e, pair, reg := replicaEnv(t, 400*time.Millisecond, dead)
	alice := e.user(t, "alice", accounts.RoleMember, "")
	admin := docs.Actor{UserID: alice.ID, Admin: true}
	first := e.create(t, docSpec{Title: "Photosynthesis", Owner: alice.ID})
	pair.CaughtUp(t)
	live, deadName := e.db.Replicas()[0].Name, e.db.Replicas()[1].Name

	states := e.db.Replicas()
	if !states[0].Healthy || states[1].Healthy || !strings.Contains(states[1].Problem, "unreachable") {
		t.Fatalf("replicas %+v: want %s healthy and %s unreachable", states, live, deadName)
	}
	checks := e.db.ReplicaChecks()
	if err := checks["replica "+deadName](e.ctx); err == nil {
		t.Errorf("the readiness check of the dead replica passes")
	}
	if got, fromReplica := replicaList(t, e, admin, docs.Query{Terms: []string{"photosynthesis"}}); !fromReplica || !slices.Equal(got, []string{first.ID}) {
		t.Errorf("search with one replica dead: %v from the replica %t; want %s from the live one", got, fromReplica, first.ID)
	}

	pair.StopSQLThread(t)
	t.Cleanup(func() { pair.StartSQLThread(t) })
	second := e.create(t, docSpec{Title: "Photosynthesis again", Owner: alice.ID})
	took := wait.For(t, wait.Limit, "the stopped replica to be skipped", func() bool { return !e.db.Replicas()[0].Healthy })
	s := e.db.Replicas()[0]
	t.Logf("skipped %s after the SQL thread stopped: %s", took.Round(time.Millisecond), s.Problem)
	if !strings.Contains(s.Problem, "lagging") || s.Lag <= 400*time.Millisecond {
		t.Errorf("lagging replica's state %+v: want a lag over the bound", s)
	}
	if err := checks["replica "+live](e.ctx); err == nil || !strings.Contains(err.Error(), "lagging") {
		t.Errorf("readiness check of the lagging replica: %v; want its lag", err)
	}
	if h := metric(t, reg, "docplat_db_replica_healthy", live); h != 0 {
		t.Errorf("docplat_db_replica_healthy{replica=%q} = %v while lagging, want 0", live, h)
	}
	if lag := metric(t, reg, "docplat_db_replica_lag_seconds", live); lag <= 0.4 {
		t.Errorf("docplat_db_replica_lag_seconds{replica=%q} = %v while lagging, want > 0.4", live, lag)
	}
	want := []string{first.ID, second.ID}
	slices.Sort(want)
	if got, fromReplica := replicaList(t, e, admin, docs.Query{Terms: []string{"photosynthesis"}}); fromReplica || !slices.Equal(got, want) {
		t.Errorf("search with the replica skipped: %v from a replica %t; want %v from the primary", got, fromReplica, want)
	}

	pair.StartSQLThread(t)
	wait.For(t, wait.Limit, "the replica to serve again", func() bool { return e.db.Replicas()[0].Healthy })
	if got, fromReplica := replicaList(t, e, admin, docs.Query{Terms: []string{"photosynthesis"}}); !fromReplica || !slices.Equal(got, want) {
		t.Errorf("search after the replica caught up: %v from the replica %t; want %v from it", got, fromReplica, want)
	}
}

// metric is the value of the one series of name whose only label is
// label (0 when there is none).
func metric(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				return m.GetGauge().GetValue() + m.GetCounter().GetValue()
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
