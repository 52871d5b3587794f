// Package wait is how docplat's tests wait for what happens asynchronously:
// one poll helper, imported by _test.go files only.
package wait

import (
	"net/http"
	"testing"
	"time"
)

// Limit is the limit most callers of For use: long enough for a
// loaded machine, short enough that a hung test fails in reasonable time.
const Limit = 10 * time.Second

// For polls cond until it holds and returns how long that took. If
// cond does not hold within limit, it fails t with what it was waiting for.
// It is not a timing assertion: limit only bounds a hung test.
func For(t testing.TB, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// Returned waits for a stopped run's result on done and fails t if it is
// an error or does not come within Limit.
func Returned(t testing.TB, done <-chan error, what string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(Limit):
		t.Fatalf("%s did not return within %v", what, Limit)
	}
}

// Answers200 waits until GET url answers 200 OK.
func Answers200(t testing.TB, url string) {
	t.Helper()
	For(t, Limit, url+" to answer 200", func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}
