package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"docplat/docs"
	"docplat/internal/testdb"
	"docplat/internal/testredis"
)

// sharedRedisConfig points cfg at real redis-server processes: one for L2
// and three Redlock nodes, returned so a test can stop them.
func sharedRedisConfig(t *testing.T, cfg *config) (l2 *testredis.Node, locks []*testredis.Node) {
	nodes := testredis.Start(t, 4)
	cfg.Redis.Addr = nodes[0].Addr()
	var addrs []string
	for _, n := range nodes[1:] {
		addrs = append(addrs, n.Addr())
	}
	cfg.Redis.LockAddrs = addrs
	return nodes[0], nodes[1:]
}

type ack struct {
	version int
	at      time.Time
}

type read struct {
	doc      string
	start    time.Time
	version  int
	instance int
}

// staleness is, over all reads, the longest time between the
// acknowledgement of a version newer than the one read and the read's
// start, and how many reads were older than an acknowledged write.
func staleness(acks map[string][]ack, reads []read) (worst time.Duration, staleReads int) {
	for id := range acks {
		sort.Slice(acks[id], func(i, j int) bool { return acks[id][i].at.Before(acks[id][j].at) })
	}
	for _, rd := range reads {
		for _, a := range acks[rd.doc] {
			if !a.at.Before(rd.start) {
				break
			}
			if a.version > rd.version {
				staleReads++
				if lag := rd.start.Sub(a.at); lag > worst {
					worst = lag
				}
				break
			}
		}
	}
	return worst, staleReads
}

// TestCacheCoherenceUnderConcurrentWritesAndLockNodeFailures is the
// randomized stress test of the cache invariant on real MariaDB and Redis:
// three instances (each its own L1) share L2 and three Redlock nodes; many
// goroutines write and read the same few documents while one lock node and
// then a second are killed. It checks that
//   - no read is older than a version acknowledged more than the bound
//     (1 s) before the read started, and reports the worst staleness seen;
//   - each reader's versions never go backwards;
//   - with one lock node down writes go on; with two down they are refused
//     as unavailable while reads keep working;
//   - afterwards every level of every instance holds the database's version.
func TestCacheCoherenceUnderConcurrentWritesAndLockNodeFailures(t *testing.T) {
	const (
		bound     = time.Second
		nDocs     = 4
		nWriters  = 6
		nReaders  = 18
		phase     = 1500 * time.Millisecond
		instances = 3
	)
	cfg := testConfig(t, testdb.MariaDB)
	_, locks := sharedRedisConfig(t, &cfg)
	cfg.LockTimeout = 500 * time.Millisecond
	apps := make([]*testApp, instances)
	for i := range apps {
		apps[i] = startApp(t, cfg)
	}
	admin := apps[0].admin()
	ids := make([]string, nDocs)
	for i := range ids {
		ids[i] = admin.mustUpload(fmt.Sprintf("d%d.txt", i), "coherence", map[string]string{"visibility": "public"}).ID
	}
	var me struct{ ID string }
	admin.doJSON("GET", "/api/v1/me", nil, 200, &me)
	writer := docs.Actor{UserID: me.ID, Admin: true}

	var (
		mu          sync.Mutex
		acks        = map[string][]ack{}
		reads       []read
		stop        atomic.Bool
		phaseN      atomic.Int32 // 0: all nodes, 1: one down, 2: two down
		okWrites    [3]atomic.Int64
		unavailable [3]atomic.Int64
		readErrors  atomic.Int64
		readsAfter  atomic.Int64
	)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range nWriters {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for !stop.Load() {
				a := apps[rng.IntN(instances)]
				id := ids[rng.IntN(nDocs)]
				desc := fmt.Sprintf("w%d-%d", w, rng.Int())
				p := phaseN.Load()
				d, err := a.docs.Update(ctx, writer, id, docs.Precondition{}, docs.Patch{Description: &desc})
				switch {
				case err == nil:
					okWrites[p].Add(1)
					mu.Lock()
					acks[id] = append(acks[id], ack{d.Revision, time.Now()})
					mu.Unlock()
				case errors.Is(err, docs.ErrUnavailable):
					unavailable[p].Add(1)
					time.Sleep(5 * time.Millisecond)
				default:
					t.Errorf("write: %v", err)
					return
				}
			}
		})
	}
	for r := range nReaders {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 2))
			inst := r % instances
			a := apps[inst]
			last := map[string]int{}
			for !stop.Load() {
				id := ids[rng.IntN(nDocs)]
				start := time.Now()
				d, err := a.docs.Get(ctx, docs.Actor{}, id)
				if err != nil {
					readErrors.Add(1)
					continue
				}
				if phaseN.Load() == 2 {
					readsAfter.Add(1)
				}
				if d.Revision < last[id] {
					t.Errorf("reader %d on instance %d saw %s go back from %d to %d", r, inst, id, last[id], d.Revision)
				}
				last[id] = d.Revision
				mu.Lock()
				reads = append(reads, read{id, start, d.Revision, inst})
				mu.Unlock()
			}
		})
	}
	time.Sleep(phase)
	locks[0].Stop()
	phaseN.Store(1)
	time.Sleep(phase)
	locks[1].Stop()
	phaseN.Store(2)
	time.Sleep(phase)
	stop.Store(true)
	wg.Wait()

	worst, staleReads := staleness(acks, reads)
	t.Logf("%d reads (%d stale within the bound, worst staleness %v), writes ok per phase %d/%d/%d, unavailable per phase %d/%d/%d, read errors %d",
		len(reads), staleReads, worst, okWrites[0].Load(), okWrites[1].Load(), okWrites[2].Load(),
		unavailable[0].Load(), unavailable[1].Load(), unavailable[2].Load(), readErrors.Load())
	if worst > bound {
		t.Errorf("a read returned a version older than one acknowledged %v before it (bound %v)", worst, bound)
	}
	if okWrites[0].Load() == 0 || okWrites[1].Load() == 0 {
		t.Errorf("writes must proceed with 3 and with 2 of 3 lock nodes: %d, %d", okWrites[0].Load(), okWrites[1].Load())
	}
	if unavailable[2].Load() == 0 || okWrites[2].Load() > 0 {
		t.Errorf("with 2 of 3 lock nodes down writes must be refused: ok %d, unavailable %d", okWrites[2].Load(), unavailable[2].Load())
	}
	if readErrors.Load() > 0 || readsAfter.Load() == 0 {
		t.Errorf("reads must keep working: %d errors, %d reads with quorum lost", readErrors.Load(), readsAfter.Load())
	}

	// Every level of every instance holds the database's version (or nothing).
	cachesHoldTheDatabase(t, apps, ids...)
}

// cachesHoldTheDatabase checks that every cache level of every instance
// holds each document at the database's version (docs.Fence), or not at all.
func cachesHoldTheDatabase(t *testing.T, apps []*testApp, ids ...string) {
	t.Helper()
	ctx := context.Background()
	for _, id := range ids {
		dbDoc, err := apps[0].db.Documents().Get(docs.PrimaryOnly(ctx), id)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range apps {
			l1v, l2v := a.cache.Version(ctx, "doc:"+id)
			if want := docs.Fence(dbDoc); (l1v != -1 && l1v != want) || (l2v != -1 && l2v != want) {
				t.Errorf("instance %d holds %s at L1 %d / L2 %d, database has %d (revision %d)", i, id, l1v, l2v, want, dbDoc.Revision)
			}
		}
	}
}

// TestDegradationOverHTTP: lock quorum lost -> writes answer 503 with the
// contract body, reads keep working, /readyz says degraded; L2 down -> reads
// still answer (from the database), /readyz names the cache.
func TestDegradationOverHTTP(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	l2, locks := sharedRedisConfig(t, &cfg)
	cfg.LockTimeout = 300 * time.Millisecond
	a := startApp(t, cfg)
	admin := a.admin()
	d := admin.mustUpload("deg.txt", "degradation", map[string]string{"visibility": "public"})
	patch := func() response {
		return admin.do("PATCH", "/api/v1/documents/"+d.ID, strings.NewReader(`{"description":"x"}`), nil)
	}
	readyz := func() (int, string) {
		r := a.anon().do("GET", "/readyz", nil, nil)
		return r.status, string(r.body)
	}
	if r := patch(); r.status != 200 {
		t.Fatalf("patch with all nodes: %d %s", r.status, r.body)
	}
	locks[0].Stop()
	if r := patch(); r.status != 200 {
		t.Fatalf("patch with 2 of 3 lock nodes: %d %s", r.status, r.body)
	}
	locks[1].Stop()
	if r := patch(); r.status != 503 || r.errorCode() != "unavailable" || r.header.Get("Retry-After") == "" {
		t.Fatalf("patch without lock quorum: %d %s", r.status, r.body)
	}
	if r := a.anon().do("GET", "/api/v1/documents/"+d.ID, nil, nil); r.status != 200 {
		t.Fatalf("read without lock quorum: %d", r.status)
	}
	if code, body := readyz(); code != 200 || !strings.Contains(body, `"degraded"`) || !strings.Contains(body, "locks") {
		t.Fatalf("readyz without lock quorum: %d %s", code, body)
	}
	l2.Stop()
	for range 3 {
		if r := a.anon().do("GET", "/api/v1/documents/"+d.ID+"/content", nil, nil); r.status != 200 || string(r.body) != "degradation" {
			t.Fatalf("read with Redis down: %d %s", r.status, r.body)
		}
	}
	if code, body := readyz(); code != 200 || !strings.Contains(body, "cache") {
		t.Fatalf("readyz with Redis down: %d %s", code, body)
	}
}
