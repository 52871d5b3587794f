package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"docplat/admission"
	"docplat/internal/testdb"
)

// TestRealSearchesOverTheirLimitAreShedReadsAreNot: with the search class
// cut to one slot, a short wait and a queue of one, twenty clients
// searching at once must see some 503 unavailable with Retry-After (and
// nothing else but 200), while the reads sent beside them all succeed.
func TestRealSearchesOverTheirLimitAreShedReadsAreNot(t *testing.T) {
	a := newTestApp(t, testdb.SQLite, func(c *config) {
		ac, err := admission.Parse("search=1/1ms/1", admission.Defaults(0))
		if err != nil {
			t.Fatal(err)
		}
		c.Server.Admission = ac
	})
	admin := a.admin()
	var docIDs []string
	for i := range 20 {
		d := admin.mustUpload(fmt.Sprintf("lecture-%d.txt", i), fmt.Sprintf("lecture notes %d about admission and shedding", i),
			map[string]string{"visibility": "public"})
		docIDs = append(docIDs, d.ID)
	}
	type tally struct {
		mu       sync.Mutex
		statuses map[int]int
		bad      []string
	}
	searches, reads := &tally{statuses: map[int]int{}}, &tally{statuses: map[int]int{}}
	get := func(tl *tally, path string) {
		res, err := http.Get(a.srv.URL + path)
		tl.mu.Lock()
		defer tl.mu.Unlock()
		if err != nil {
			tl.bad = append(tl.bad, err.Error())
			return
		}
		res.Body.Close()
		tl.statuses[res.StatusCode]++
		if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); res.StatusCode == 503 && (err != nil || ra < 1) {
			tl.bad = append(tl.bad, "503 without Retry-After")
		}
	}
	var wg sync.WaitGroup
	for w := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 10 {
				get(searches, fmt.Sprintf("/api/v1/documents?q=notes+%d", (w+i)%20))
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 10 {
				get(reads, "/api/v1/documents/"+docIDs[(w+i)%20]+"/content")
			}
		}()
	}
	wg.Wait()
	t.Logf("searches %v, reads %v", searches.statuses, reads.statuses)
	if len(searches.bad)+len(reads.bad) > 0 {
		t.Fatalf("bad answers: %v %v", searches.bad, reads.bad)
	}
	if searches.statuses[503] == 0 || searches.statuses[200] == 0 || searches.statuses[200]+searches.statuses[503] != 200 {
		t.Errorf("searches: %v, want some 200 and some 503 and nothing else", searches.statuses)
	}
	if reads.statuses[200] != 200 {
		t.Errorf("reads: %v, want all 200", reads.statuses)
	}
}
