package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"docplat/admission"
)

// TestSearchesOverTheirBoundAreShedWhileReadsSucceed holds the only search
// slot with a slow search, then sends more searches (one waits its bound,
// the rest find the queue full) and reads: the searches get 503
// unavailable with Retry-After, every read 200.
func TestSearchesOverTheirBoundAreShedWhileReadsSucceed(t *testing.T) {
	s := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Options{Admission: admission.Config{
		admission.Search: {Concurrency: 1, MaxWait: 100 * time.Millisecond, Queue: 1},
	}})
	unblock, started := make(chan struct{}), make(chan struct{})
	r := gin.New()
	r.Use(s.requestID, s.observe, s.admit)
	r.GET("/api/v1/documents", func(c *gin.Context) {
		if c.Query("q") == "slow" {
			close(started)
			<-unblock
		}
		c.JSON(200, gin.H{"items": []string{}})
	})
	r.GET("/api/v1/documents/:id/content", func(c *gin.Context) { c.String(200, "content") })
	srv := httptest.NewServer(r)
	defer srv.Close()
	get := func(path string) (int, string, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Error(err)
			return 0, "", ""
		}
		defer res.Body.Close()
		var body errorBody
		_ = json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode, string(body.Error.Code), res.Header.Get("Retry-After")
	}

	slowDone := make(chan int, 1)
	go func() { status, _, _ := get("/api/v1/documents?q=slow"); slowDone <- status }()
	<-started // the slow search holds the only slot

	var (
		mu       sync.Mutex
		searches = map[int]int{}
		reads    = map[int]int{}
		wg       sync.WaitGroup
	)
	for range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			status, code, retry := get("/api/v1/documents?q=fast")
			if ra, err := strconv.Atoi(retry); status == 503 && (code != "unavailable" || err != nil || ra < 1 || ra > 5) {
				t.Errorf("shed search: code %q Retry-After %q", code, retry)
			}
			mu.Lock()
			searches[status]++
			mu.Unlock()
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				status, _, _ := get("/api/v1/documents/d1/content")
				mu.Lock()
				reads[status]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(unblock)
	if status := <-slowDone; status != 200 {
		t.Errorf("the slow search: %d", status)
	}
	if searches[503] != 8 || reads[200] != 160 || len(reads) != 1 {
		t.Fatalf("searches %v (want 8 x 503), reads %v (want 160 x 200)", searches, reads)
	}
	if status, _, _ := get("/api/v1/documents?q=fast"); status != 200 {
		t.Fatalf("a search once the slot is free: %d", status)
	}
}
