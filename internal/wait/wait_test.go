package wait

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestForReturnsOnceConditionHolds(t *testing.T) {
	var calls atomic.Int64
	For(t, Limit, "the third call", func() bool { return calls.Add(1) == 3 })
	if n := calls.Load(); n != 3 {
		t.Fatalf("cond called %d times, want 3 (polling must stop once it holds)", n)
	}
}

// recorder is a testing.TB that records Fatalf instead of stopping the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = format
	panic(r) // Fatalf must not return to its caller
}

func TestForFailsWhenConditionNeverHolds(t *testing.T) {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		For(r, 20*time.Millisecond, "nothing", func() bool { return false })
	}()
	if r.failed == "" {
		t.Fatal("For returned although cond never held")
	}
}

func TestReturnedAcceptsANilResult(t *testing.T) {
	done := make(chan error, 1)
	done <- nil
	Returned(t, done, "the run")
}

func TestAnswers200PollsUntilOK(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	Answers200(t, srv.URL)
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
}
