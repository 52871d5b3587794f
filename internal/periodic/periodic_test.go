package periodic

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"docplat/internal/wait"
)

// TestRunCallsTheJobUntilTheContextEnds: the job runs repeatedly, never
// after Run has returned.
func TestRunCallsTheJobUntilTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, time.Millisecond, func(context.Context) { calls.Add(1) })
	}()
	wait.For(t, wait.Limit, "three calls", func() bool { return calls.Load() >= 3 })
	cancel()
	<-done
	after := calls.Load()
	time.Sleep(5 * time.Millisecond)
	if calls.Load() != after {
		t.Fatalf("the job ran after Run returned")
	}
}
