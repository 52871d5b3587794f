package httpserve

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestInFlightRequestsFinishBeforeTheJobsStop: at the end of ctx a request
// already being served completes, the jobs keep running until it has, and
// Run returns only after the jobs are done.
func TestInFlightRequestsFinishBeforeTheJobsStop(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var jobStopped, jobStoppedBeforeReply atomic.Bool
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		jobStoppedBeforeReply.Store(jobStopped.Load())
		io.WriteString(w, "done")
	})}
	jobs := func(ctx context.Context) *sync.WaitGroup {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); <-ctx.Done(); jobStopped.Store(true) }()
		return &wg
	}
	ctx, stop := context.WithCancel(context.Background())
	var told atomic.Bool
	done := make(chan error, 1)
	go func() { done <- Run(ctx, srv, ln, 5*time.Second, jobs, func() { told.Store(true) }) }()

	reply := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			reply <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		reply <- string(b)
	}()
	<-entered
	stop()
	time.Sleep(50 * time.Millisecond) // Shutdown is waiting for the request
	close(release)
	if got := <-reply; got != "done" {
		t.Fatalf("in-flight request got %q", got)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !told.Load() || !jobStopped.Load() || jobStoppedBeforeReply.Load() {
		t.Fatalf("told %v, jobs stopped %v, stopped before the reply %v", told.Load(), jobStopped.Load(), jobStoppedBeforeReply.Load())
	}
}

// TestAServerThatCannotServeStopsTheJobs: Run returns the server's error
// (here a closed listener) and stops the jobs without waiting for ctx.
func TestAServerThatCannotServeStopsTheJobs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	var jobStopped atomic.Bool
	jobs := func(ctx context.Context) *sync.WaitGroup {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); <-ctx.Done(); jobStopped.Store(true) }()
		return &wg
	}
	err = Run(context.Background(), &http.Server{}, ln, time.Second, jobs, func() { t.Error("told of a shutdown that was not asked for") })
	if err == nil || !jobStopped.Load() {
		t.Fatalf("Run: %v, jobs stopped %v", err, jobStopped.Load())
	}
}
