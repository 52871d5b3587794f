package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"

	"docplat/internal/testdb"
	"docplat/internal/wait"
)

// TestReadsServedEqualCountsAcrossRestart: after a bounded run of
// concurrent reads (contents, downloads, metadata), the stats service's
// counters and the documents' own views/downloads equal the reads
// answered 200, and they still do after the instance (and the stats
// consumer in it) is stopped and started again on the same data and more
// reads are made: the aggregated, windowed accounting neither loses a read
// at a clean stop nor counts one twice when the stream is read again.
func TestReadsServedEqualCountsAcrossRestart(t *testing.T) {
	cfg := testConfig(t, testdb.SQLite) // the embedded broker keeps its log in the data directory
	a, stop := runApp(t, cfg)
	admin := a.admin()
	var ids []string
	for i := range 3 {
		ids = append(ids, admin.mustUpload(fmt.Sprintf("h%d.txt", i), "handout", map[string]string{"visibility": "public"}).ID)
	}
	type tally struct{ views, downloads int64 }
	served := map[string]*tally{}
	for _, id := range ids {
		served[id] = &tally{}
	}
	var mu sync.Mutex
	readAll := func(a *testApp, perClient int) {
		var wg sync.WaitGroup
		for c := range 4 {
			wg.Go(func() {
				anon := a.anon()
				for i := range perClient {
					id := ids[(c+i)%len(ids)]
					path, download := "/api/v1/documents/"+id+"/content", false
					switch i % 3 {
					case 1:
						path, download = path+"?download=1", true
					case 2:
						path = "/api/v1/documents/" + id
					}
					if res := anon.do("GET", path, nil, nil); res.status == 200 {
						mu.Lock()
						if download {
							served[id].downloads++
						} else {
							served[id].views++
						}
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
	}
	// counted compares the stats service and the documents (read straight
	// from the database: the API's own reads would count) with served.
	counted := func(a *testApp) bool {
		ctx := context.Background()
		for _, id := range ids {
			st, err := a.stats.DocumentStats(ctx, id)
			if err != nil {
				return false
			}
			var onDoc tally
			if err := a.db.SQL().QueryRow("SELECT views, downloads FROM documents WHERE id = ?", id).Scan(&onDoc.views, &onDoc.downloads); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			want := *served[id]
			mu.Unlock()
			if st.Views != want.views || st.Downloads != want.downloads || onDoc != want {
				return false
			}
		}
		return true
	}
	readAll(a, 60)
	wait.For(t, wait.Limit, "the counts to equal the reads served", func() bool { return counted(a) })
	readAll(a, 30) // still summed or unwritten at the stop
	stop()

	a, _ = runApp(t, cfg)
	readAll(a, 30)
	wait.For(t, wait.Limit, "the counts to equal the reads served across the restart", func() bool { return counted(a) })
}

// runApp is startApp with a stop that may be called before the test ends.
func runApp(t *testing.T, cfg config) (*testApp, func()) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := build(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if _, _, err := a.accounts.EnsureAdmin(context.Background(), adminPassword); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.runBackground(runCtx).Wait(); close(done) }()
	wait.For(t, wait.Limit, "the cache to follow invalidations", a.cache.Following)
	srv := httptest.NewServer(a.server)
	var once sync.Once
	stop := func() { once.Do(func() { srv.Close(); cancel(); <-done; _ = a.Close() }) }
	t.Cleanup(stop)
	return &testApp{app: a, t: t, srv: srv}, stop
}
