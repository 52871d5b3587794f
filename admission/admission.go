// Package admission degrades a server by priority instead of letting it
// drown: each request class (reads, searches, writes, logins, admin) gets
// its own concurrency limit and a bounded wait for a free slot. A request
// that would wait longer than its class's bound is refused at once with
// ErrShed (the HTTP layer answers 503 with Retry-After), so an overload of
// expensive searches or writes queues behind its own limit and never
// behind, or in front of, the cheap reads a lecture burst is made of.
//
// It is not a rate limiter (server/ratelimit.go slows password guessing
// per account); it bounds how much work of each kind runs at once.
package admission

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Class is a kind of request with its own limit.
type Class string

const (
	// Read: a document, its content, versions or a read token, and /me.
	// Cached and hot reads cost tens of microseconds; by default they are
	// never limited here.
	Read Class = "read"
	// Search: searches, listings and statistics, queries whose cost grows
	// with the data (a search costs the database ~17 ms of CPU).
	Search Class = "search"
	// Write: uploads, new versions, updates, deletes, tokens.
	Write Class = "write"
	// Login: password checks (bcrypt: tens of ms of CPU each).
	Login Class = "login"
	// Admin: the administration API.
	Admin Class = "admin"
)

// Classes lists the classes in priority order, most protected first.
var Classes = []Class{Read, Login, Write, Search, Admin}

// Limit bounds one class.
type Limit struct {
	// Concurrency is how many requests of the class run at once; 0 means
	// no limit (requests are only counted).
	Concurrency int
	// MaxWait is the longest a request waits for a slot; past it, it is
	// shed. Zero sheds as soon as every slot is taken.
	MaxWait time.Duration
	// Queue bounds how many wait at once; the next is shed at once
	// (0: 8 per slot).
	Queue int
}

// Config is the limit of each class; a class missing from it is not limited.
type Config map[Class]Limit

// Defaults sizes the limits to a machine with cpus cores (0: GOMAXPROCS).
// Searches get one slot per core and 250 ms of waiting: beyond that the
// database is the bottleneck and a later retry is kinder than a long
// queue. Writes mostly wait on I/O and the commit protocol: four slots per
// core, 1 s. Logins are CPU-bound bcrypt: one slot per core, 2 s (a
// lecture starts with everyone logging in). Reads are not limited. The
// queues are long enough that the wait bound, not the queue, decides who
// is shed in all but a flood (they only cap the goroutines held).
func Defaults(cpus int) Config {
	if cpus < 1 {
		cpus = runtime.GOMAXPROCS(0)
	}
	return Config{
		Read:   {},
		Search: {Concurrency: cpus, MaxWait: 250 * time.Millisecond, Queue: 64 * cpus},
		Write:  {Concurrency: 4 * cpus, MaxWait: time.Second, Queue: 64 * cpus},
		Login:  {Concurrency: cpus, MaxWait: 2 * time.Second, Queue: 128 * cpus},
		Admin:  {Concurrency: cpus, MaxWait: time.Second, Queue: 16 * cpus},
	}
}

// ErrShed matches (errors.Is) every *ShedError.
var ErrShed = errors.New("admission: request shed")

// ShedError says which class was shed and why.
type ShedError struct {
	Class  Class
	Reason string // "queue_full" or "wait_bound"
	Limit  Limit
}

func (e *ShedError) Error() string {
	return fmt.Sprintf("admission: %s request shed (%s: %d running, waited up to %v)", e.Class, e.Reason, e.Limit.Concurrency, e.Limit.MaxWait)
}

func (e *ShedError) Is(target error) bool { return target == ErrShed }

// Controller admits requests by class.
type Controller struct {
	gates map[Class]*gate
	m     *metrics
}

type gate struct {
	class   Class
	limit   Limit
	slots   chan struct{} // nil: not limited
	waiting atomic.Int64

	// this class's metrics, looked up once
	admittedN         prometheus.Counter
	wait              prometheus.Observer
	inFlight, waitNow prometheus.Gauge
}

// New builds a controller; reg (optional) receives its metrics.
func New(cfg Config, reg prometheus.Registerer) *Controller {
	c := &Controller{gates: map[Class]*gate{}, m: newMetrics(reg)}
	limits := Config{}
	for _, class := range Classes {
		limits[class] = Limit{}
	}
	for class, l := range cfg {
		limits[class] = l
	}
	for class, l := range limits {
		name := string(class)
		g := &gate{class: class, limit: l, admittedN: c.m.admittedN.WithLabelValues(name),
			wait: c.m.wait.WithLabelValues(name), inFlight: c.m.inFlight.WithLabelValues(name), waitNow: c.m.waiting.WithLabelValues(name)}
		// Exported at 0 from the start, so that an alert's rate() or
		// increase() sees the first shed request (deploy/prometheus).
		for _, reason := range []string{"queue_full", "wait_bound"} {
			c.m.shed.WithLabelValues(name, reason)
		}
		if l.Concurrency > 0 {
			g.slots = make(chan struct{}, l.Concurrency)
			if l.Queue <= 0 {
				g.limit.Queue = 8 * l.Concurrency
			}
		}
		c.gates[class] = g
	}
	return c
}

// Limit returns the limit in force for class.
func (c *Controller) Limit(class Class) Limit {
	if g := c.gates[class]; g != nil {
		return g.limit
	}
	return Limit{}
}

// Admit waits for a slot of class and returns the function that frees
// it, or a *ShedError when the class's queue is full or its wait bound
// passed, or ctx's error when the caller gave up first.
func (c *Controller) Admit(ctx context.Context, class Class) (release func(), err error) {
	g := c.gates[class]
	if g == nil {
		return func() {}, nil // not a class this controller knows: not limited
	}
	if g.slots == nil {
		g.admitted(0)
		return g.running(), nil
	}
	select {
	case g.slots <- struct{}{}:
		g.admitted(0)
		return c.release(g), nil
	default:
	}
	if g.waiting.Add(1) > int64(g.limit.Queue) {
		g.waiting.Add(-1)
		return nil, c.shed(g, "queue_full")
	}
	g.waitNow.Inc()
	defer func() {
		g.waiting.Add(-1)
		g.waitNow.Dec()
	}()
	start := time.Now()
	timer := time.NewTimer(g.limit.MaxWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		g.admitted(time.Since(start))
		return c.release(g), nil
	case <-timer.C:
		g.wait.Observe(time.Since(start).Seconds())
		return nil, c.shed(g, "wait_bound")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Controller) release(g *gate) func() {
	done := g.running()
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			<-g.slots
			done()
		}
	}
}

func (c *Controller) shed(g *gate, reason string) error {
	c.m.shed.WithLabelValues(string(g.class), reason).Inc()
	return &ShedError{Class: g.class, Reason: reason, Limit: g.limit}
}

type metrics struct {
	admittedN *prometheus.CounterVec
	shed      *prometheus.CounterVec
	wait      *prometheus.HistogramVec
	inFlight  *prometheus.GaugeVec
	waiting   *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		admittedN: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_admission_admitted_total", Help: "Requests admitted, by class.",
		}, []string{"class"}),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_admission_shed_total", Help: "Requests refused with 503 to protect the server, by class and reason (queue_full, wait_bound).",
		}, []string{"class", "reason"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "docplat_admission_wait_seconds", Help: "Time requests waited for a slot of their class (admitted or shed).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2},
		}, []string{"class"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "docplat_admission_in_flight", Help: "Requests running, by class.",
		}, []string{"class"}),
		waiting: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "docplat_admission_waiting", Help: "Requests waiting for a slot, by class.",
		}, []string{"class"}),
	}
	if reg != nil {
		reg.MustRegister(m.admittedN, m.shed, m.wait, m.inFlight, m.waiting)
	}
	return m
}

func (g *gate) admitted(waited time.Duration) {
	g.admittedN.Inc()
	g.wait.Observe(waited.Seconds())
}

// running counts a request in flight until the returned function runs.
func (g *gate) running() func() {
	g.inFlight.Inc()
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			g.inFlight.Dec()
		}
	}
}

// Parse applies overrides written as "class=concurrency/max-wait[/queue]"
// separated by commas (e.g. "search=4/250ms,write=8/1s/256"; "search=0"
// lifts the search limit) to a copy of base.
func Parse(spec string, base Config) (Config, error) {
	out := Config{}
	for class, l := range base {
		out[class] = l
	}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		class := Class(strings.TrimSpace(name))
		if !ok || !slices.Contains(Classes, class) {
			return nil, fmt.Errorf("admission %q: want class=concurrency/max-wait[/queue] with class one of %v", item, Classes)
		}
		parts := strings.Split(value, "/")
		n, err := strconv.Atoi(strings.TrimSpace(parts[0]))
		if err != nil || n < 0 || len(parts) > 3 || (n > 0 && len(parts) < 2) {
			return nil, fmt.Errorf("admission %q: want class=concurrency/max-wait[/queue], e.g. search=4/250ms", item)
		}
		l := Limit{Concurrency: n}
		if n > 0 {
			if l.MaxWait, err = time.ParseDuration(strings.TrimSpace(parts[1])); err != nil || l.MaxWait < 0 {
				return nil, fmt.Errorf("admission %q: bad max-wait %q", item, parts[1])
			}
			if len(parts) == 3 {
				if l.Queue, err = strconv.Atoi(strings.TrimSpace(parts[2])); err != nil || l.Queue < 1 {
					return nil, fmt.Errorf("admission %q: bad queue length %q", item, parts[2])
				}
			}
		}
		out[class] = l
	}
	return out, nil
}
