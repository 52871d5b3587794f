// Package loadgen is docplat's HTTP load generator: it sends requests that a
// Source describes to a server, at a scheduled arrival rate (open loop) or
// from N concurrent users (closed loop), and reports what happened.
//
// # What it owns
//
//   - Scheduling. Open loop: request i of a phase running at rate r is due at
//     phaseStart + i/r, its intended time, whatever the server is doing. Each
//     request runs in its own goroutine; latency is measured from the intended
//     time to the moment the response body has been read, so a server that
//     stalls cannot hide its queueing by slowing the generator down
//     (coordinated omission). Closed loop: Users goroutines each loop
//     send -> read the whole response -> send; latency is completion minus
//     send time. Config.Steps makes either mode stepped (a rate or a user
//     count per step).
//   - MaxInFlight (open loop only). At most MaxInFlight requests are
//     outstanding. A request that finds no free slot waits for one; it is
//     late, not failed, and its latency still counts from its intended time.
//     Only a request that could not even start before intendedTime + Timeout
//     is given up and counted as a failure of class "overload: max in flight",
//     with latency = the time it waited (about Timeout), so that the latency
//     figures do not hide it either. Timeout bounds the slot wait (from the
//     intended time) and, separately, the HTTP exchange (from the actual
//     send, class "timeout"), so an open-loop latency is at most about
//     2*Timeout. Waiters get slots roughly in arrival order.
//   - Statistics: totals, successes, failures grouped by class ("shed: 503
//     with Retry-After" (ShedClass, also counted in Stats.Shed), "status 503",
//     "timeout", "connection refused", "connection reset", "eof",
//     "overload: max in flight", otherwise "error <Go type>"), rates per
//     second, the exact mean latency, the mean of the slowest 10% of
//     latencies, and p50/p90/p99/p99.9 from an HDR histogram
//     (github.com/HdrHistogram/hdrhistogram-go, 3 significant digits, range
//     1µs..60s; longer latencies are clamped to 60s in the histogram only),
//     overall and per Request.Name. Max is the exact largest latency.
//     Latency statistics cover every recorded request, successes and failures
//     alike; the failure classes tell fast 503s from slow timeouts.
//   - Reports: Result.Table (aligned human text) and JSON through the struct
//     tags of Result and Stats (durations as float milliseconds, "p99_ms").
//   - Tally: the same statistics for outcomes measured elsewhere (used by
//     loadgen/jtl to summarize JMeter results files).
//
// # Mean of the slowest 10%
//
// With n recorded latencies the slowest 10% are the k = ceil(n/10) largest.
// Every series keeps all its latencies (int64 nanoseconds, 8 bytes each)
// while it holds at most 2,000,000 of them (16 MB), and the figure is
// then computed exactly (sort, sum of the k largest with a 128-bit
// accumulator); Stats.MeanSlowest10Exact is true. Past that the samples
// are folded into log-linear buckets (1024 sub-buckets per power of two, so a
// bucket is narrower than 0.1% of its values) that keep an exact count and sum
// each; the k largest are then the whole buckets above the bucket holding the
// k-th largest (exact) plus part of that bucket, valued at its mean, so the
// error is below 0.1% and MeanSlowest10Exact is false. The mean is always
// exact (128-bit sum of nanoseconds).
//
// # Counting window
//
// Warmup runs before Duration at the first step's rate or user count; its
// requests are sent but not recorded (open loop: intended time before the
// end of warmup; closed loop: sent before it). When Duration ends no new
// request starts; those in flight finish (bounded by Timeout) and are
// recorded. Elapsed runs from the end of warmup to the completion of the last
// request, and the per-second rates divide by it. Cancelling ctx is the hard
// stop: requests cut short by it are not recorded, and Run returns the
// partial Result with ctx's error.
//
// # Connections
//
// Use keep-alive with a transport sized for the load: NewClient(n, ...) keeps
// up to n idle connections to the host (a default http.Transport keeps only
// 2, which makes a closed loop with many users open and close a connection
// per request). Given a nil client, Run builds one sized for the load (see
// Run). For 10,000 concurrent connections set `ulimit -n` to at least 20,000:
// each connection costs a descriptor at each end, and a generator and server
// in one process (as in the package's tests) need a little more than that.
// The ephemeral port range must be large enough too (10,000 users held
// 10,000 connections to a separate local server in a manual run); a
// loopback run also shares the CPUs with the server, so the generator's own
// cost shows up in the server's latency. Result.MaxSendLag says how late the
// open loop actually sent compared to the schedule (slot waits included).
//
// # What it never does
//
// It does not know docplat's API (a Source decides what to send: paths,
// tokens, bodies), does not retry (a closed-loop user told to come back
// later by a 503 with Retry-After waits that long before its next request,
// see ShedClass; 429 and other statuses are counted, not obeyed), does not
// start or stop servers, and does not write files; callers print Table or
// marshal the Result.
package loadgen
