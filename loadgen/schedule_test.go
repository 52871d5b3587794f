package loadgen

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// get returns a Source that always GETs url with the given name.
func get(url, name string) Source {
	return Func(func(*rand.Rand) Request { return Request{Method: http.MethodGet, URL: url, Name: name} })
}

// stallOnceServer answers instantly except the nth request, which it holds
// for stall.
func stallOnceServer(t *testing.T, nth int64, stall time.Duration) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == nth {
			time.Sleep(stall)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func countAtLeast(lats []time.Duration, d time.Duration) int {
	n := 0
	for _, l := range lats {
		if l >= d {
			n++
		}
	}
	return n
}

// TestOpenLoopMeasuresFromIntendedTime is the coordinated-omission test: one
// 300ms stall at the start with MaxInFlight 1 makes every request scheduled
// during the stall wait, and the open loop must charge that wait to them.
func TestOpenLoopMeasuresFromIntendedTime(t *testing.T) {
	t.Parallel()
	srv := stallOnceServer(t, 5, 300*time.Millisecond)
	res, rec, err := run(context.Background(), nil, get(srv.URL, "x"), Config{
		Mode: Open, Rate: 200, Duration: time.Second, MaxInFlight: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 200 || res.Failures != 0 {
		t.Fatalf("total %d failures %d %v; want 200 requests, none failed (queued requests are late, not failed)",
			res.Total, res.Failures, res.FailuresBy)
	}
	lats := rec.latencies()
	slow := countAtLeast(lats, 100*time.Millisecond)
	// Requests intended during the first ~200ms of the stall (about 40) waited >= 100ms.
	if slow < 25 {
		t.Errorf("%d latencies >= 100ms, want >= 25 (the queue behind the stall)", slow)
	}
	if res.P99.Duration() < 200*time.Millisecond {
		t.Errorf("p99 %v, want >= 200ms", res.P99)
	}
	if res.MeanSlowest10.Duration() < 150*time.Millisecond {
		t.Errorf("mean of slowest 10%% %v, want >= 150ms", res.MeanSlowest10)
	}
	if res.Max.Duration() < 290*time.Millisecond {
		t.Errorf("max %v, want >= 290ms", res.Max)
	}
	if res.MaxSendLag.Duration() < 200*time.Millisecond {
		t.Errorf("max send lag %v, want >= 200ms (requests waited for the slot)", res.MaxSendLag)
	}
	t.Logf("open: p50 %v p90 %v p99 %v max %v slowest10 %v, %d >= 100ms",
		res.P50, res.P90, res.P99, res.Max, res.MeanSlowest10, slow)
}

// TestClosedLoopHidesTheStall shows the contrast: with one user the stall
// delays one request only, and the waiting is invisible.
func TestClosedLoopHidesTheStall(t *testing.T) {
	t.Parallel()
	srv := stallOnceServer(t, 5, 300*time.Millisecond)
	res, rec, err := run(context.Background(), nil, get(srv.URL, "x"), Config{
		Mode: Closed, Users: 1, Duration: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failures != 0 || res.Total < 10 {
		t.Fatalf("total %d failures %v", res.Total, res.FailuresBy)
	}
	// Only the 300 ms stall reaches 250 ms: a loaded machine's scheduling
	// hiccups reached 100 ms.
	if slow := countAtLeast(rec.latencies(), 250*time.Millisecond); slow != 1 {
		t.Errorf("%d latencies >= 250ms, want exactly 1", slow)
	}
	if res.P50.Duration() > 50*time.Millisecond {
		t.Errorf("p50 %v, want small", res.P50)
	}
	if res.Max.Duration() < 290*time.Millisecond {
		t.Errorf("max %v, want >= 290ms", res.Max)
	}
	t.Logf("closed: %d requests p50 %v p99 %v max %v", res.Total, res.P50, res.P99, res.Max)
}

// TestOverloadFailsOnlyAfterTimeout: requests that cannot get a slot before
// intended+Timeout are "overload" failures with latency ~Timeout; the others
// are late but succeed, and nothing is slower than 2*Timeout.
func TestOverloadFailsOnlyAfterTimeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(80 * time.Millisecond):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	// The handler's 80 ms leaves the timeout a wide margin: on a loaded
	// machine (parallel test packages) a 100 ms timeout let one request time
	// out, and the test is about overloads, not timeouts.
	const timeout = 400 * time.Millisecond
	res, rec, err := run(context.Background(), nil, get(srv.URL, ""), Config{
		Rate: 100, Duration: 500 * time.Millisecond, MaxInFlight: 1, Timeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 50 || res.Successes+res.Failures != res.Total {
		t.Fatalf("total %d = %d + %d, want 50", res.Total, res.Successes, res.Failures)
	}
	over := res.FailuresBy[OverloadError]
	if over < 20 || res.Successes < 3 || res.Successes+over != res.Total {
		t.Errorf("overload %d successes %d (%v), want many overloads, the rest successes", over, res.Successes, res.FailuresBy)
	}
	for _, l := range rec.latencies() {
		if l > 2*timeout+100*time.Millisecond {
			t.Errorf("latency %v beyond the timeout budget", l)
		}
	}
	if res.MeanSlowest10.Duration() < timeout {
		t.Errorf("slowest 10%% mean %v, want >= timeout (overloads count with their wait)", res.MeanSlowest10)
	}
	if len(res.ByName) != 0 {
		t.Errorf("unnamed requests produced a breakdown: %v", res.ByName)
	}
}

// TestOpenLoopRate: 500 req/s for 1s against an instant server.
func TestOpenLoopRate(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	var mu sync.Mutex
	var first, last time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		now := time.Now()
		mu.Lock()
		if first.IsZero() {
			first = now
		}
		last = now
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	res, err := Run(context.Background(), nil, get(srv.URL, "r"), Config{Rate: 500, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total < 475 || res.Total > 525 {
		t.Errorf("sent %d, want 500±5%%", res.Total)
	}
	if n.Load() != res.Total || res.Successes != res.Total {
		t.Errorf("server saw %d, result total %d successes %d", n.Load(), res.Total, res.Successes)
	}
	if span := last.Sub(first); span < 900*time.Millisecond {
		t.Errorf("arrivals spread over %v, want about 1s", span)
	}
	if e := res.Elapsed.Duration(); e < 990*time.Millisecond || e > 3*time.Second {
		t.Errorf("elapsed %v", e)
	}
	if res.RequestsPerSec < 400 || res.RequestsPerSec > 520 {
		t.Errorf("requests/s %v", res.RequestsPerSec)
	}
	if res.ByName["r"] == nil || res.ByName["r"].Total != res.Total {
		t.Errorf("by name: %+v", res.ByName)
	}
}

// TestWarmupAndSteps: warmup requests are sent but not recorded; steps change
// the rate.
func TestWarmupAndSteps(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)

	start := time.Now()
	res, err := Run(context.Background(), nil, get(srv.URL, ""), Config{
		Warmup: 200 * time.Millisecond,
		Steps:  []Step{{Duration: 300 * time.Millisecond, Rate: 100}, {Duration: 300 * time.Millisecond, Rate: 300}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// Warmup 20 at the first step's 100/s, then 30 + 90 recorded.
	if res.Total != 120 || len(arrivals) != 140 {
		t.Fatalf("recorded %d (want 120), server saw %d (want 140)", res.Total, len(arrivals))
	}
	if res.Duration.Duration() != 600*time.Millisecond || res.Rate != 0 {
		t.Errorf("duration %v rate %v", res.Duration, res.Rate)
	}
	inStep2 := 0
	for _, a := range arrivals {
		if a.Sub(start) >= 500*time.Millisecond {
			inStep2++
		}
	}
	if inStep2 < 75 || inStep2 > 100 {
		t.Errorf("%d arrivals in the 300/s step, want about 90", inStep2)
	}
}

// TestClosedLoopSteps: the number of active users follows the steps.
func TestClosedLoopSteps(t *testing.T) {
	t.Parallel()
	var cur, peak atomic.Int64
	var peakStep1 atomic.Int64
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := cur.Add(1)
		defer cur.Add(-1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		if time.Since(start) < 250*time.Millisecond {
			for {
				p := peakStep1.Load()
				if c <= p || peakStep1.CompareAndSwap(p, c) {
					break
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}))
	t.Cleanup(srv.Close)
	res, err := Run(context.Background(), nil, get(srv.URL, ""), Config{
		Mode:  Closed,
		Steps: []Step{{Duration: 300 * time.Millisecond, Users: 1}, {Duration: 300 * time.Millisecond, Users: 4}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if peakStep1.Load() != 1 || peak.Load() != 4 {
		t.Errorf("concurrency: step 1 peak %d (want 1), overall peak %d (want 4)", peakStep1.Load(), peak.Load())
	}
	// About 30 + 120 requests of 10ms each (fewer on a busy machine).
	if res.Total < 30 || res.Total > 160 || res.Failures != 0 {
		t.Errorf("total %d failures %v", res.Total, res.FailuresBy)
	}
}

// TestHardStop: cancelling ctx ends the run early with a partial result.
func TestHardStop(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, nil, get(srv.URL, ""), Config{Rate: 100, Duration: 10 * time.Second})
	if err == nil {
		t.Fatal("want the context's error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("run took %v after cancel", d)
	}
	if res == nil || res.Total < 10 || res.Total > 40 {
		t.Fatalf("partial result %+v", res)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	src := get("http://127.0.0.1:1/", "")
	for _, c := range []Config{
		{Mode: "sideways", Rate: 1, Duration: time.Second},
		{Mode: Open, Duration: time.Second},
		{Mode: Closed, Rate: 10, Duration: time.Second},
		{Rate: 10},
		{Rate: 10, Duration: time.Second, MaxInFlight: -1},
		{Steps: []Step{{Duration: 0, Rate: 1}}},
	} {
		if res, err := Run(context.Background(), nil, src, c); err == nil || res != nil {
			t.Errorf("%+v: want an error, got %v %v", c, res, err)
		}
	}
	if _, err := Run(context.Background(), nil, nil, Config{Rate: 1, Duration: time.Second}); err == nil {
		t.Error("nil source accepted")
	}
}

// TestManyConnections: a closed loop with many users keeps one keep-alive
// connection per user. LOADGEN_USERS raises the count (10000 needs
// ulimit -n >= 20100 in-process: both ends of every connection live here).
// Not parallel: it saturates the CPUs, which would disturb the timing tests.
func TestManyConnections(t *testing.T) {
	users := 1000
	if v := os.Getenv("LOADGEN_USERS"); v != "" {
		users, _ = strconv.Atoi(v)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(2*users+100) {
		t.Skipf("RLIMIT_NOFILE %d too small for %d users in-process", lim.Cur, users)
	}
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	d := time.Second
	if users > 2000 {
		d = 5 * time.Second
	}
	// The warm-up gives every user time to dial (1,000 dials take over a
	// second when CI's other packages load the CPUs); the connections it
	// opens are counted, its requests are not.
	res, err := Run(context.Background(), nil, get(srv.URL, ""), Config{Mode: Closed, Users: users, Warmup: 2 * time.Second, Duration: d, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failures != 0 || res.Successes == 0 {
		t.Errorf("successes %d failures %v", res.Successes, res.FailuresBy)
	}
	if c := conns.Load(); c != int64(users) {
		t.Errorf("%d connections for %d users, want one keep-alive connection each", c, users)
	}
	t.Logf("%d users: %d requests, %.0f req/s, %d connections, p50 %v p99 %v max %v",
		users, res.Total, res.RequestsPerSec, conns.Load(), res.P50, res.P99, res.Max)
}

// TestClosedLoopThinkTime: with a think time each user pauses between a
// response and its next request, so a fast server sees about
// users x duration / think requests, not thousands.
func TestClosedLoopThinkTime(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	const users, think = 4, 100 * time.Millisecond
	res, _, err := run(context.Background(), nil, get(srv.URL, "x"), Config{Mode: Closed, Users: users, Duration: time.Second, ThinkTime: think})
	if err != nil {
		t.Fatal(err)
	}
	// Each pause is at least think/2, so a user sends at most 1s/(think/2)+1 requests.
	if most := users * (int(time.Second/(think/2)) + 1); res.Total > int64(most) || res.Total < users {
		t.Fatalf("%d requests, want between %d and %d", res.Total, users, most)
	}
	// A think time longer than the run must not stretch it (nor Elapsed,
	// which the rates divide by).
	long, _, err := run(context.Background(), nil, get(srv.URL, "x"), Config{Mode: Closed, Users: users, Duration: 200 * time.Millisecond, ThinkTime: time.Minute})
	if err != nil || long.Elapsed.Duration() > 30*time.Second {
		t.Fatalf("a 200ms run with a 1m think time lasted %v (%v)", long.Elapsed, err)
	}
	if _, _, err := run(context.Background(), nil, get(srv.URL, "x"), Config{Mode: Closed, Users: 1, Duration: time.Millisecond, ThinkTime: -1}); err == nil {
		t.Error("a negative think time was accepted")
	}
}

// TestRunClosesTheConnectionsItOpened: with no client given, Run sizes its
// own, and none of that client's connections outlives the run.
func TestRunClosesTheConnectionsItOpened(t *testing.T) {
	var open atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	res, err := Run(context.Background(), nil, get(srv.URL, ""), Config{Mode: Closed, Users: 8, Duration: 200 * time.Millisecond})
	if err != nil || res.Successes == 0 {
		t.Fatalf("run: %v, %d successes", err, res.Successes)
	}
	// The server sees the close a moment after the client makes it.
	deadline := time.Now().Add(5 * time.Second)
	for open.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := open.Load(); n != 0 {
		t.Fatalf("%d connections still open after Run returned", n)
	}
}
