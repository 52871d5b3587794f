package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"docplat/docs"
	"docplat/internal/testdb"
	"docplat/internal/testredis"
	"docplat/internal/wait"
)

// TestCacheCoherenceOnRedisClusterWithMasterFailover is the stress test of
// the cache invariant with L2 on a real Redis Cluster (3 masters, each
// with a replica; invalidations WAIT for one): three instances, many
// writers and readers on a few documents, and in the middle the master of
// the invalidation channel's slot, which holds some of the documents'
// keys, is killed (SIGKILL). It checks that
//   - no read is older than a version acknowledged more than the bound
//     (1 s, the L1 broadcast's bound) before the read started, failover
//     included, and reports the worst staleness seen, before and after the
//     crash;
//   - /readyz names the cache until the failover, and no longer once the
//     shard is whole;
//   - each reader's versions never go backwards, and reads never fail
//     (L2 unreachable: they go to the database);
//   - writes go on before the crash; while the shard has no master or no
//     replica its documents' writes are refused as unavailable, the
//     others' go on; once the old master is back (as a replica) every
//     document is written again;
//   - afterwards every level of every instance holds the database's version.
func TestCacheCoherenceOnRedisClusterWithMasterFailover(t *testing.T) {
	const (
		bound     = time.Second
		nDocs     = 4
		nWriters  = 6
		nReaders  = 18
		phase     = 1500 * time.Millisecond
		instances = 3
	)
	cluster := testredis.StartCluster(t, 3, 1)
	cfg := testConfig(t, testdb.MariaDB)
	cfg.Redis.ClusterAddrs = cluster.Addrs()
	cfg.Redis.WaitReplicas = 1
	for _, n := range testredis.Start(t, 3) {
		cfg.Redis.LockAddrs = append(cfg.Redis.LockAddrs, n.Addr())
	}
	cfg.LockTimeout = 500 * time.Millisecond
	apps := make([]*testApp, instances)
	for i := range apps {
		apps[i] = startApp(t, cfg)
	}
	admin := apps[0].admin()
	// The victim is the master of the invalidation channel's slot (every
	// instance's subscription dies with it); the first document lives on
	// it and at least one other document elsewhere (more are uploaded
	// until both hold).
	victim, _, err := cluster.MasterFor("docplat:invalidate")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	onVictim := 0
	for i := 0; len(ids) < nDocs || onVictim == 0 || onVictim == len(ids); i++ {
		if i == 40 {
			t.Fatal("40 uploads and no document on each side of the victim")
		}
		id := admin.mustUpload(fmt.Sprintf("c%d.txt", i), "cluster coherence", map[string]string{"visibility": "public"}).ID
		if m, _, _ := cluster.MasterFor("dc:doc:" + id); m == victim {
			ids = append([]string{id}, ids...) // documents on the victim first
			onVictim++
		} else {
			ids = append(ids, id)
		}
	}
	var me struct{ ID string }
	admin.doJSON("GET", "/api/v1/me", nil, 200, &me)
	writer := docs.Actor{UserID: me.ID, Admin: true}

	var (
		mu          sync.Mutex
		acks        = map[string][]ack{}
		reads       []read
		stop        atomic.Bool
		phaseN      atomic.Int32 // 0: healthy, 1: master killed / failed over, 2: old master back
		okWrites    [3]atomic.Int64
		okVictim    [3]atomic.Int64 // of them, writes of documents on the victim
		unavailable [3]atomic.Int64
		readErrors  atomic.Int64
	)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range nWriters {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for !stop.Load() {
				a := apps[rng.IntN(instances)]
				di := rng.IntN(len(ids))
				id := ids[di]
				desc := fmt.Sprintf("w%d-%d", w, rng.Int())
				p := phaseN.Load()
				d, err := a.docs.Update(ctx, writer, id, docs.Precondition{}, docs.Patch{Description: &desc})
				switch {
				case err == nil:
					okWrites[p].Add(1)
					if di < onVictim {
						okVictim[p].Add(1)
					}
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
			rng := rand.New(rand.NewPCG(uint64(r), 4))
			inst := r % instances
			a := apps[inst]
			last := map[string]int{}
			for !stop.Load() {
				id := ids[rng.IntN(len(ids))]
				start := time.Now()
				d, err := a.docs.Get(ctx, docs.Actor{}, id)
				if err != nil {
					readErrors.Add(1)
					continue
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
	killed := time.Now()
	victim.Stop()
	phaseN.Store(1)
	// Until the failover, /readyz names the cache (a master does not answer).
	readyz := func() string { return string(apps[1].anon().do("GET", "/readyz", nil, nil).body) }
	sawDegraded := ""
	for deadline := time.Now().Add(testredis.NodeTimeout); sawDegraded == "" && time.Now().Before(deadline); {
		if b := readyz(); strings.Contains(b, "cache") {
			sawDegraded = b
		}
		time.Sleep(20 * time.Millisecond)
	}
	if sawDegraded == "" {
		t.Errorf("/readyz did not name the cache within %v of a master's crash", testredis.NodeTimeout)
	}
	if err := cluster.WaitHealthy(3, 0, 20*time.Second); err != nil {
		stop.Store(true)
		wg.Wait()
		t.Fatal(err)
	}
	failedOver := time.Since(killed)
	time.Sleep(phase / 2)
	if err := victim.Restart(); err != nil {
		t.Error(err)
	}
	if err := cluster.WaitHealthy(3, 1, 20*time.Second); err != nil {
		t.Error(err)
	}
	rejoined := time.Since(killed)
	phaseN.Store(2)
	time.Sleep(phase)
	stop.Store(true)
	wg.Wait()

	wait.For(t, 5*time.Second, "/readyz without the cache once the shard is whole again", func() bool {
		return !strings.Contains(readyz(), "cache")
	})

	worst, staleReads := staleness(acks, reads)
	var before, after []read
	for _, rd := range reads {
		if rd.start.Before(killed) {
			before = append(before, rd)
		} else {
			after = append(after, rd)
		}
	}
	worstBefore, staleBefore := staleness(acks, before)
	worstAfter, staleAfter := staleness(acks, after)
	t.Logf("stale reads before the crash %d of %d (worst %v), from it on %d of %d (worst %v)",
		staleBefore, len(before), worstBefore, staleAfter, len(after), worstAfter)
	t.Logf("/readyz during the failover: %s", sawDegraded)
	t.Logf("master %s of the invalidation channel killed (%d of %d documents on it): failed over in %v, back as a replica after %v",
		victim.Addr(), onVictim, len(ids), failedOver.Round(time.Millisecond), rejoined.Round(time.Millisecond))
	t.Logf("%d reads (%d stale within the bound, worst staleness %v), writes ok per phase %d/%d/%d (of documents on the victim %d/%d/%d), unavailable per phase %d/%d/%d, read errors %d",
		len(reads), staleReads, worst, okWrites[0].Load(), okWrites[1].Load(), okWrites[2].Load(),
		okVictim[0].Load(), okVictim[1].Load(), okVictim[2].Load(),
		unavailable[0].Load(), unavailable[1].Load(), unavailable[2].Load(), readErrors.Load())
	if worst > bound {
		t.Errorf("a read returned a version older than one acknowledged %v before it (bound %v)", worst, bound)
	}
	if okWrites[0].Load() == 0 || okVictim[2].Load() == 0 {
		t.Errorf("writes must proceed before the crash (%d) and to every document once the shard has its replica back (on the victim: %d)",
			okWrites[0].Load(), okVictim[2].Load())
	}
	if okWrites[1].Load() == okVictim[1].Load() {
		t.Errorf("during the failover the other shards' documents must still be written")
	}
	if readErrors.Load() > 0 {
		t.Errorf("reads must keep working: %d errors", readErrors.Load())
	}

	// Every level of every instance holds the database's version (or nothing):
	// the cache keeps fences (docs.Fence), not revisions.
	for _, id := range ids {
		dbDoc, err := apps[0].db.Documents().Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := docs.Fence(dbDoc)
		for i, a := range apps {
			l1v, l2v := a.cache.Version(ctx, "doc:"+id)
			if (l1v != -1 && l1v != want) || (l2v != -1 && l2v != want) {
				t.Errorf("instance %d holds %s at L1 %d / L2 %d, database has fence %d (revision %d)", i, id, l1v, l2v, want, dbDoc.Revision)
			}
		}
	}
}
