// Package wait is how docplat's tests wait for what happens asynchronously:
// one poll helper, imported by _test.go files only.
package wait

import (
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
