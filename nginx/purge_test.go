package nginx

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestPurgeReturnsOnlyAfterEveryWorkerDropped hammers a hot document from
// many connections on 4 workers (so every worker's LRU holds it) while
// purging it: no request sent after Purge returned may carry the old ETag.
func TestPurgeReturnsOnlyAfterEveryWorkerDropped(t *testing.T) {
	app := &contentApp{name: "a", body: []byte("new bytes"), etag: `"new"`, ctype: "text/plain", filename: "f"}
	oldApp := &contentApp{body: []byte("old bytes"), etag: `"old"`, ctype: "text/plain", filename: "f"}
	tier := startContentTier(t, app, Config{Workers: 4})
	ctx := context.Background()
	for round := 1; round <= 5; round++ {
		old := oldApp.entry("P1", int64(2*round-1), "public")
		if err := tier.client.Push(ctx, old); err != nil {
			t.Fatal(err)
		}
		var (
			purged    atomic.Bool
			stale     atomic.Int64
			hotBefore atomic.Int64
			wg        sync.WaitGroup
			stop      = make(chan struct{})
		)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
				defer c.CloseIdleConnections()
				for {
					select {
					case <-stop:
						return
					default:
					}
					after := purged.Load() // read before sending
					resp, err := c.Get(tier.base + "/api/v1/documents/P1/content")
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.Header.Get("ETag") == `"old"` {
						if after {
							stale.Add(1)
						} else {
							hotBefore.Add(1)
						}
					}
				}
			}()
		}
		// Let every worker cache the old entry first.
		for hotBefore.Load() < 200 {
			if t.Failed() {
				break
			}
			runtime.Gosched()
		}
		err := tier.client.Purge(ctx, "P1", int64(2*round))
		purged.Store(true)
		// The hammering goes on; add a few hundred requests of our own.
		afterCount := 0
		c := &http.Client{}
		for afterCount < 200 {
			resp, err := c.Get(tier.base + "/api/v1/documents/P1/content")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.Header.Get("ETag") == `"old"` {
				stale.Add(1)
			}
			afterCount++
		}
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatalf("round %d: purge: %v", round, err)
		}
		if n := stale.Load(); n != 0 {
			t.Fatalf("round %d: %d responses sent after Purge returned carried the old ETag", round, n)
		}
		if hotBefore.Load() == 0 {
			t.Fatalf("round %d: the old entry was never served; the test proved nothing", round)
		}
	}
}
