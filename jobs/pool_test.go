package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"docplat/events"
	"docplat/internal/wait"
)

var seq atomic.Int64

// testConfig is a queue on a fresh in-memory development broker, with
// topics of its own.
func testConfig(t *testing.T, partitions int) Config {
	t.Helper()
	b, err := events.StartBroker(context.Background(), events.BrokerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	n := seq.Add(1)
	c := Config{Brokers: b.Addrs(), Topic: fmt.Sprintf("jobs.test%d", n), Group: fmt.Sprintf("workers-%d", n),
		Partitions: partitions, Workers: 1, MaxAttempts: 3, Backoff: 200 * time.Millisecond, MaxBackoff: time.Second,
		JobTimeout: 10 * time.Second, SessionTimeout: time.Second, LagEvery: 100 * time.Millisecond}
	if err := EnsureTopics(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func enqueue(t *testing.T, c Config, jobs ...Job) {
	t.Helper()
	q, err := NewQueue(c)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for _, j := range jobs {
		if err := q.Enqueue(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
}

// start runs a pool until the returned stop is called (also at cleanup).
func start(t *testing.T, c Config, kinds map[string]Kind) (*Pool, func()) {
	t.Helper()
	p, err := NewPool(c, kinds)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Error("pool did not stop within 15s")
			}
		})
	}
	t.Cleanup(stop)
	return p, stop
}

// TestAJobSurvivesAWorkerStoppedMidJob: a worker stopped while it
// handles a job (its process killed) leaves the job uncommitted; a worker
// started afterwards does it.
func TestAJobSurvivesAWorkerStoppedMidJob(t *testing.T) {
	c := testConfig(t, 2)
	started := make(chan struct{}, 1)
	var first atomic.Bool
	var done atomic.Int64
	kinds := map[string]Kind{"extract": {Handle: func(ctx context.Context, j Job) error {
		if first.CompareAndSwap(false, true) {
			started <- struct{}{}
			<-ctx.Done() // killed mid-job
			return ctx.Err()
		}
		done.Add(1)
		return nil
	}}}
	_, stop := start(t, c, kinds)
	enqueue(t, c, Job{Kind: "extract", DocumentID: "doc-1", Version: 1})
	select {
	case <-started:
	case <-time.After(wait.Limit):
		t.Fatal("the job was never handed to the worker")
	}
	stop()
	if done.Load() != 0 {
		t.Fatal("the job was done by the stopped worker")
	}
	start(t, c, kinds) // the process started again
	wait.For(t, wait.Limit, "the job to be done after the restart", func() bool { return done.Load() == 1 })
}

// TestAFailingJobIsRetriedWithBackoffThenRecordedFailed: every attempt
// fails; the attempts come at least the backoff apart, doubling, up to
// MaxAttempts, then Failed records the reason. Jobs enqueued behind it on
// the same partition are done meanwhile, not after.
func TestAFailingJobIsRetriedWithBackoffThenRecordedFailed(t *testing.T) {
	c := testConfig(t, 1) // one partition: everything behind the failing job
	var mu sync.Mutex
	var attempts []time.Time
	var failedWith error
	var failedJob Job
	var others atomic.Int64
	var othersDoneAt atomic.Int64
	kinds := map[string]Kind{
		"broken": {
			Handle: func(ctx context.Context, j Job) error {
				mu.Lock()
				defer mu.Unlock()
				attempts = append(attempts, time.Now())
				return fmt.Errorf("attempt %d: the file is unreadable", j.Attempt)
			},
			Failed: func(ctx context.Context, j Job, reason error) error {
				mu.Lock()
				defer mu.Unlock()
				failedWith, failedJob = reason, j
				return nil
			},
		},
		"fine": {Handle: func(ctx context.Context, j Job) error {
			if others.Add(1) == 5 {
				othersDoneAt.Store(time.Now().UnixNano())
			}
			return nil
		}},
	}
	reg := prometheus.NewRegistry()
	c.Registerer = reg
	p, _ := start(t, c, kinds)
	jobs := []Job{{Kind: "broken", DocumentID: "doc-bad", Version: 2}}
	for i := range 5 {
		jobs = append(jobs, Job{Kind: "fine", DocumentID: fmt.Sprintf("doc-%d", i), Version: 1})
	}
	enqueue(t, c, jobs...)
	wait.For(t, wait.Limit, "the broken job to be recorded failed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return failedWith != nil
	})
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != c.MaxAttempts {
		t.Fatalf("%d attempts, want %d", len(attempts), c.MaxAttempts)
	}
	for i := 1; i < len(attempts); i++ {
		if gap, want := attempts[i].Sub(attempts[i-1]), backoff(c.Backoff, c.MaxBackoff, i); gap < want {
			t.Errorf("attempt %d came %v after attempt %d, before its backoff %v", i+1, gap, i, want)
		}
	}
	if failedJob.Attempt != c.MaxAttempts || failedJob.DocumentID != "doc-bad" || failedJob.LastError == "" {
		t.Errorf("recorded failure of %+v", failedJob)
	}
	if want := fmt.Sprintf("attempt %d: the file is unreadable", c.MaxAttempts); failedWith.Error() != want {
		t.Errorf("reason %q, want %q", failedWith, want)
	}
	if others.Load() != 5 || othersDoneAt.Load() == 0 || time.Unix(0, othersDoneAt.Load()).After(attempts[1]) {
		t.Errorf("the jobs behind the failing one were not all done before its first retry (%d done)", others.Load())
	}
	if got := testutil.ToFloat64(p.m.retries.WithLabelValues("broken")); got != float64(c.MaxAttempts-1) {
		t.Errorf("retries metric %v, want %d", got, c.MaxAttempts-1)
	}
	if got := testutil.ToFloat64(p.m.failures.WithLabelValues("broken")); got != 1 {
		t.Errorf("failures metric %v, want 1", got)
	}
}

// TestAPermanentErrorIsNotRetried: a job whose handler says retrying
// cannot help fails at its first attempt.
func TestAPermanentErrorIsNotRetried(t *testing.T) {
	c := testConfig(t, 1)
	var calls atomic.Int64
	failed := make(chan error, 1)
	start(t, c, map[string]Kind{"extract": {
		Handle: func(context.Context, Job) error { calls.Add(1); return Permanent(errors.New("encrypted PDF")) },
		Failed: func(_ context.Context, _ Job, reason error) error { failed <- reason; return nil },
	}})
	enqueue(t, c, Job{Kind: "extract", DocumentID: "doc-1", Version: 1})
	select {
	case err := <-failed:
		if !IsPermanent(err) || calls.Load() != 1 {
			t.Fatalf("failed with %v after %d calls", err, calls.Load())
		}
	case <-time.After(wait.Limit):
		t.Fatal("the job was not recorded failed")
	}
}

// TestAFailureThatCannotBeRecordedRunsAgain: while Failed cannot record
// the failure (the database away), the job is not committed.
func TestAFailureThatCannotBeRecordedRunsAgain(t *testing.T) {
	c := testConfig(t, 1)
	c.MaxAttempts = 1
	var tries atomic.Int64
	recorded := make(chan struct{})
	start(t, c, map[string]Kind{"extract": {
		Handle: func(context.Context, Job) error { return errors.New("broken") },
		Failed: func(context.Context, Job, error) error {
			if tries.Add(1) < 3 {
				return errors.New("database unavailable")
			}
			close(recorded)
			return nil
		},
	}})
	enqueue(t, c, Job{Kind: "extract", DocumentID: "doc-1", Version: 1})
	select {
	case <-recorded:
	case <-time.After(wait.Limit):
		t.Fatalf("the failure was not recorded (%d tries)", tries.Load())
	}
}

// TestTwoWorkersShareTheWork: two pools (two processes) in one group
// split the partitions, and every job is done once the work is over.
func TestTwoWorkersShareTheWork(t *testing.T) {
	c := testConfig(t, 4)
	var mu sync.Mutex
	by := map[string]map[string]bool{} // pool -> documents
	kinds := func(name string) map[string]Kind {
		return map[string]Kind{"extract": {Handle: func(_ context.Context, j Job) error {
			time.Sleep(20 * time.Millisecond) // work, so that one member cannot drain it all before the other joins
			mu.Lock()
			defer mu.Unlock()
			if by[name] == nil {
				by[name] = map[string]bool{}
			}
			by[name][j.DocumentID] = true
			return nil
		}}}
	}
	start(t, c, kinds("a"))
	start(t, c, kinds("b"))
	var jobs []Job
	for i := range 80 {
		jobs = append(jobs, Job{Kind: "extract", DocumentID: fmt.Sprintf("doc-%02d", i), Version: 1})
	}
	enqueue(t, c, jobs...)
	wait.For(t, 30*time.Second, "all 80 jobs to be done", func() bool {
		mu.Lock()
		defer mu.Unlock()
		seen := map[string]bool{}
		for _, docs := range by {
			for d := range docs {
				seen[d] = true
			}
		}
		return len(seen) == 80
	})
	mu.Lock()
	defer mu.Unlock()
	if len(by["a"]) == 0 || len(by["b"]) == 0 {
		t.Fatalf("one worker did everything: a %d, b %d", len(by["a"]), len(by["b"]))
	}
}

// TestDepthIsTheGroupsLag: the gauge counts the jobs not yet handled.
func TestDepthIsTheGroupsLag(t *testing.T) {
	c := testConfig(t, 2)
	enqueue(t, c, Job{Kind: "x", DocumentID: "a"}, Job{Kind: "x", DocumentID: "b"}, Job{Kind: "x", DocumentID: "c"})
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	n, err := Depth(context.Background(), cl, c.Topic, c.Group)
	if err != nil || n != 3 {
		t.Fatalf("depth %d, %v; want 3", n, err)
	}
	var handled atomic.Int64
	start(t, c, map[string]Kind{"x": {Handle: func(ctx context.Context, j Job) error {
		handled.Add(1)
		return nil
	}}})
	wait.For(t, wait.Limit, "the lag to drop to 0", func() bool {
		n, err := Depth(context.Background(), cl, c.Topic, c.Group)
		return err == nil && n == 0 && handled.Load() == 3
	})
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {5, 10 * time.Second}, {30, 10 * time.Second}} {
		if got := backoff(time.Second, 10*time.Second, tc.attempt); got != tc.want {
			t.Errorf("backoff after attempt %d: %v, want %v", tc.attempt, got, tc.want)
		}
	}
}

// TestAJobSurvivesARestartOfTheWholeProcess: the embedded mode's restart,
// the development broker included (its data directory kept): a job in hand
// when everything stopped is done after the start.
func TestAJobSurvivesARestartOfTheWholeProcess(t *testing.T) {
	dir := t.TempDir()
	startBroker := func() *events.Broker {
		b, err := events.StartBroker(context.Background(), events.BrokerConfig{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := startBroker()
	c := Config{Brokers: b.Addrs(), Topic: "docplat.jobs", Group: "workers", Partitions: 2, Workers: 1, MaxAttempts: 3,
		Backoff: 100 * time.Millisecond, MaxBackoff: time.Second, JobTimeout: 10 * time.Second, SessionTimeout: time.Second}
	if err := EnsureTopics(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 1)
	var done atomic.Int64
	var first atomic.Bool
	kinds := map[string]Kind{"extract": {Handle: func(ctx context.Context, j Job) error {
		if first.CompareAndSwap(false, true) {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}
		if j.DocumentID == "doc-in-hand" {
			done.Add(1)
		}
		return nil
	}}}
	_, stop := start(t, c, kinds)
	enqueue(t, c, Job{Kind: "extract", DocumentID: "doc-in-hand", Version: 1})
	select {
	case <-started:
	case <-time.After(wait.Limit):
		t.Fatal("the job was never handed to the worker")
	}
	stop()
	b.Close()

	b = startBroker() // the process starts again
	t.Cleanup(b.Close)
	c.Brokers = b.Addrs()
	start(t, c, kinds)
	wait.For(t, wait.Limit, "the job in hand at the stop to be done after the restart", func() bool { return done.Load() == 1 })
}
