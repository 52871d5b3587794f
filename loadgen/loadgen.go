package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is one HTTP request to send. Name labels the scenario step (e.g.
// "read-content") and gives the per-name breakdown of the Result; requests
// with an empty Name count only in the overall figures.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	Name   string
}

// Source decides what to send next. In open loop Next is called by the
// single scheduling goroutine; in closed loop each user calls it from its own
// goroutine with its own rng, so a Source with shared state must be safe for
// concurrent use. The rng is seeded from Config.Seed (deterministic per user).
type Source interface {
	Next(rng *rand.Rand) Request
}

// Func adapts a function to Source.
type Func func(rng *rand.Rand) Request

// Next calls f.
func (f Func) Next(rng *rand.Rand) Request { return f(rng) }

// Step is one stage of a stepped run: Rate applies in open loop, Users in
// closed loop.
type Step struct {
	Duration time.Duration
	Rate     float64
	Users    int
}

// Modes.
const (
	Open   = "open"
	Closed = "closed"
)

// Config describes a run. Zero values: Mode "" means open; Timeout 0 means
// DefaultTimeout; MaxInFlight 0 means no cap; Success nil means status < 400.
type Config struct {
	Mode string // "open" or "closed"
	// Rate is the open-loop arrival rate in requests per second.
	Rate float64
	// Steps, when set, replace Rate/Users/Duration: the run goes through the
	// steps in order and lasts the sum of their durations.
	Steps []Step
	// Users is the closed-loop number of concurrent users.
	Users int
	// ThinkTime is how long a closed-loop user waits between a response and
	// its next request, drawn uniformly from [ThinkTime/2, 3*ThinkTime/2)
	// (JMeter's uniform random timer); 0: none, every user sends back to
	// back and latency follows Little's law (Users / throughput). Users
	// with a think time also start at a random moment of their first think
	// time, so that they do not all send their first request at once (give
	// Warmup at least 1.5 x ThinkTime).
	ThinkTime time.Duration
	// Duration is the measured window (after Warmup).
	Duration time.Duration
	// Warmup runs before Duration at the first step's settings; its requests
	// are not recorded.
	Warmup time.Duration
	// MaxInFlight caps outstanding open-loop requests; see the package doc.
	MaxInFlight int
	// Timeout bounds each HTTP exchange from its send time; in open loop it
	// also bounds the wait for a MaxInFlight slot from the intended time.
	Timeout time.Duration
	// Seed seeds the rngs handed to the Source.
	Seed int64
	// Success decides whether a status code is a success (default < 400).
	Success func(status int) bool
	// IgnoreRetryAfter makes closed-loop users send their next request
	// without waiting out a shed answer's Retry-After (see ShedClass).
	IgnoreRetryAfter bool
}

// DefaultTimeout is the request timeout when Config.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// ShedClass is the failure class of a 503 answer carrying Retry-After: the
// server refused the request to protect itself (load shedding, a failing
// dependency) and said when to come back. It is a clean refusal, not an
// error or a timeout, and Stats.Shed counts it apart (within Failures). A
// closed-loop user waits the advised delay before its next request (unless
// Config.IgnoreRetryAfter); an open-loop arrival is a new client that was
// told nothing, so the schedule does not change.
const ShedClass = "shed: 503 with Retry-After"

// maxRetryAfter caps how long a user honours a Retry-After.
const maxRetryAfter = time.Minute

// OverloadError is the failure class of open-loop requests that could not get
// a MaxInFlight slot before intended time + Timeout.
const OverloadError = "overload: max in flight"

// phase is a stretch of the run with one rate / user count, as offsets from
// the run's start.
type phase struct {
	start, end time.Duration
	rate       float64
	users      int
}

func (c *Config) normalize() ([]phase, error) {
	switch c.Mode {
	case "":
		c.Mode = Open
	case Open, Closed:
	default:
		return nil, fmt.Errorf("loadgen: unknown mode %q (want %q or %q)", c.Mode, Open, Closed)
	}
	if c.Timeout < 0 || c.Warmup < 0 || c.Duration < 0 || c.MaxInFlight < 0 || c.Users < 0 || c.Rate < 0 || c.ThinkTime < 0 {
		return nil, errors.New("loadgen: negative setting in Config")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Success == nil {
		c.Success = func(status int) bool { return status < 400 }
	}
	steps := c.Steps
	if len(steps) == 0 {
		steps = []Step{{Duration: c.Duration, Rate: c.Rate, Users: c.Users}}
	}
	var phases []phase
	var at time.Duration
	if c.Warmup > 0 {
		phases = append(phases, phase{start: 0, end: c.Warmup, rate: steps[0].Rate, users: steps[0].Users})
		at = c.Warmup
	}
	var total time.Duration
	active := false
	for i, s := range steps {
		if s.Duration <= 0 {
			return nil, fmt.Errorf("loadgen: step %d: duration must be > 0", i)
		}
		if s.Rate < 0 || s.Users < 0 {
			return nil, fmt.Errorf("loadgen: step %d: negative rate or users", i)
		}
		if (c.Mode == Open && s.Rate > 0) || (c.Mode == Closed && s.Users > 0) {
			active = true
		}
		phases = append(phases, phase{start: at, end: at + s.Duration, rate: s.Rate, users: s.Users})
		at += s.Duration
		total += s.Duration
	}
	if !active {
		if c.Mode == Open {
			return nil, errors.New("loadgen: open loop needs Rate > 0")
		}
		return nil, errors.New("loadgen: closed loop needs Users > 0")
	}
	c.Duration = total
	return phases, nil
}

// Run drives the load described by cfg with client and returns the figures of the measured window. The error is
// non-nil for an invalid Config (nil Result) or when ctx ended the run early
// (partial Result). A nil client means the generator's own keep-alive
// HTTP/1.1 client for http:// URLs (a fraction of net/http's CPU per
// request; it follows no redirects) and, for other URLs, NewTransport(n)
// with n = max(64, Users, MaxInFlight), whose connections per host are also
// capped at n in closed loop or with MaxInFlight (so a closed loop of N
// users holds exactly N connections).
func Run(ctx context.Context, client *http.Client, src Source, cfg Config) (*Result, error) {
	res, _, err := run(ctx, client, src, cfg)
	return res, err
}

// run is Run that also hands back the recorder, for tests.
func run(ctx context.Context, client *http.Client, src Source, cfg Config) (*Result, *recorder, error) {
	phases, err := cfg.normalize()
	if err != nil {
		return nil, nil, err
	}
	if src == nil {
		return nil, nil, errors.New("loadgen: nil Source")
	}
	var lean *leanClient
	if client == nil {
		n := max(cfg.MaxInFlight, 64)
		for _, p := range phases {
			n = max(n, p.users)
		}
		tr := NewTransport(n)
		if cfg.Mode == Closed || cfg.MaxInFlight > 0 {
			// Concurrency is bounded anyway; the cap stops the transport from
			// dialing spare connections when many users start at once.
			tr.MaxConnsPerHost = n
		}
		client = &http.Client{Transport: tr}
		// Ours: its connections must not outlive the run (a stepped
		// benchmark would otherwise keep every step's connections open).
		defer tr.CloseIdleConnections()
		lean = newLeanClient(ctx, n)
		defer lean.closeIdle()
	}
	g := &gen{ctx: ctx, client: client, lean: lean, src: src, cfg: cfg, phases: phases, rec: newRecorder(cfg.Success)}
	g.start = time.Now()
	g.measureStart = g.start.Add(cfg.Warmup)
	g.end = g.start.Add(phases[len(phases)-1].end)
	if cfg.Mode == Open {
		g.runOpen()
	} else {
		g.runClosed()
	}
	elapsed := time.Since(g.measureStart)
	if elapsed < 0 {
		elapsed = 0
	}
	res := g.rec.result(elapsed)
	res.Mode = cfg.Mode
	if cfg.Mode == Open {
		if len(cfg.Steps) == 0 {
			res.Rate = cfg.Rate
		}
	} else if len(cfg.Steps) == 0 {
		res.Users = cfg.Users
	}
	res.Warmup = Millis(cfg.Warmup)
	res.Duration = Millis(cfg.Duration)
	return res, g.rec, ctx.Err()
}

type gen struct {
	ctx    context.Context
	client *http.Client
	lean   *leanClient // nil when the caller gave the client
	src    Source
	cfg    Config
	phases []phase
	rec    *recorder

	start, measureStart, end time.Time
}

func newRNG(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// runOpen schedules every request at its intended time and waits for all of
// them to finish.
func (g *gen) runOpen() {
	rng := newRNG(g.cfg.Seed, 0)
	var sem chan struct{}
	if g.cfg.MaxInFlight > 0 {
		sem = make(chan struct{}, g.cfg.MaxInFlight)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	done := g.ctx.Done()
	for _, ph := range g.phases {
		if ph.rate <= 0 {
			continue
		}
		span := ph.end - ph.start
		for j := 0; ; j++ {
			off := time.Duration(float64(j) * float64(time.Second) / ph.rate)
			if off >= span {
				break
			}
			intended := g.start.Add(ph.start + off)
			if d := time.Until(intended); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-done:
					return
				}
			} else if g.ctx.Err() != nil {
				return
			}
			req := g.src.Next(rng)
			record := !intended.Before(g.measureStart)
			wg.Add(1)
			go func() {
				defer wg.Done()
				g.openOne(req, intended, record, sem)
			}()
		}
	}
}

func (g *gen) openOne(req Request, intended time.Time, record bool, sem chan struct{}) {
	if sem != nil {
		deadline := intended.Add(g.cfg.Timeout)
		select {
		case sem <- struct{}{}:
		default:
			t := time.NewTimer(time.Until(deadline))
			select {
			case sem <- struct{}{}:
				t.Stop()
			case now := <-t.C:
				if record {
					g.rec.record(req.Name, now.Sub(intended), 0, errOverload, 0)
				}
				return
			case <-g.ctx.Done():
				t.Stop()
				return
			}
		}
		defer func() { <-sem }()
	}
	sent := time.Now()
	ans, err := g.do(req, sent.Add(g.cfg.Timeout))
	done := time.Now()
	if g.ctx.Err() != nil {
		return // hard stop: not recorded
	}
	if record {
		g.rec.recordAnswer(req.Name, done.Sub(intended), ans, err, sent.Sub(intended))
	}
}

// runClosed runs the users until the end of the last phase.
func (g *gen) runClosed() {
	users := 0
	for _, p := range g.phases {
		users = max(users, p.users)
	}
	var wg sync.WaitGroup
	for u := 0; u < users; u++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.user(u)
		}()
	}
	wg.Wait()
}

func (g *gen) user(u int) {
	rng := newRNG(g.cfg.Seed, uint64(u)+1)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	// sleep waits d (never past the end of the run, so that Elapsed ends
	// with the window); false: the run was cancelled.
	sleep := func(d time.Duration) bool {
		d = min(d, time.Until(g.end))
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-timer.C:
			return true
		case <-g.ctx.Done():
			return false
		}
	}
	if g.cfg.ThinkTime > 0 && !sleep(time.Duration(rng.Int64N(int64(g.cfg.ThinkTime)*3/2))) {
		return
	}
	for {
		now := time.Now()
		if !now.Before(g.end) || g.ctx.Err() != nil {
			return
		}
		ph := g.phaseAt(now.Sub(g.start))
		if u >= ph.users {
			// Idle in this phase: sleep until the next one.
			if !sleep(g.start.Add(ph.end).Sub(now)) {
				return
			}
			continue
		}
		req := g.src.Next(rng)
		sent := time.Now()
		ans, err := g.do(req, sent.Add(g.cfg.Timeout))
		done := time.Now()
		if g.ctx.Err() != nil {
			return
		}
		if !sent.Before(g.measureStart) {
			g.rec.recordAnswer(req.Name, done.Sub(sent), ans, err, 0)
		}
		var pause time.Duration
		if g.cfg.ThinkTime > 0 {
			pause = g.cfg.ThinkTime/2 + time.Duration(rng.Int64N(int64(g.cfg.ThinkTime)))
		}
		if err == nil && ans.shed() && !g.cfg.IgnoreRetryAfter {
			pause = max(pause, ans.retryAfter) // told when to come back: do not hammer
		}
		if pause > 0 && !sleep(pause) {
			return
		}
	}
}

func (g *gen) phaseAt(off time.Duration) phase {
	for _, p := range g.phases {
		if off < p.end {
			return p
		}
	}
	return g.phases[len(g.phases)-1]
}

// answer is what came back for a request.
type answer struct {
	status        int
	retryAfter    time.Duration
	hasRetryAfter bool // a Retry-After in seconds was given
}

// shed reports whether the server refused the request cleanly (ShedClass).
func (a answer) shed() bool { return a.status == http.StatusServiceUnavailable && a.hasRetryAfter }

// parseRetryAfter reads Retry-After in seconds (the HTTP-date form is not
// used by docplat and counts as absent).
func parseRetryAfter(v string) (time.Duration, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, false
	}
	return min(time.Duration(n)*time.Second, maxRetryAfter), true
}

// do sends req, reads the whole body and returns the answer (or the error).
func (g *gen) do(req Request, deadline time.Time) (answer, error) {
	if g.lean != nil {
		if addr, host, target, ok := splitHTTPURL(req.URL); ok {
			return g.lean.do(req, addr, host, target, deadline)
		}
	}
	ctx, cancel := context.WithDeadline(g.ctx, deadline)
	defer cancel()
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequestWithContext(ctx, method, req.URL, body)
	if err != nil {
		return answer{}, err
	}
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	resp, err := g.client.Do(hr)
	if err != nil {
		return answer{}, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode}
	a.retryAfter, a.hasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	return a, nil
}

// NewClient returns a keep-alive HTTP/1.1 client that keeps up to conns idle
// connections per host (use at least the number of users or MaxInFlight).
// timeout is the client-wide timeout (0: none; Run bounds each request with
// Config.Timeout anyway).
func NewClient(conns int, timeout time.Duration) *http.Client {
	return &http.Client{Transport: NewTransport(conns), Timeout: timeout}
}

// NewTransport returns the transport of NewClient.
func NewTransport(conns int) *http.Transport {
	if conns < 2 {
		conns = 2
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
