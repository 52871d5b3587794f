package events

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Publisher takes access events (a Producer).
type Publisher interface {
	Publish(Access)
}

// Aggregator defaults. Every round of the stream (a produce request, the
// broker, both consumer groups fetching) costs about the same however few
// events it carries, so cold traffic waits DefaultAggregateWindow, and only
// documents read fast enough to become hot go out at the
// DefaultBurstInterval cadence.
const (
	DefaultAggregateWindow = 500 * time.Millisecond
	// DefaultBurstCount is an eighth of what the detector's defaults need to
	// call a document hot (200 reads/s over 1 s): a burst reaches the
	// detector at most 1/8 of its own detection time later.
	DefaultBurstCount    = 25
	DefaultBurstInterval = 50 * time.Millisecond
)

// AggregatorConfig configures an Aggregator.
type AggregatorConfig struct {
	// Window is how long reads are summed before they are published
	// (default DefaultAggregateWindow). It starts with the first read after
	// an idle spell (no wake-ups while nothing is read) and is what a crash
	// of the process loses at most.
	Window time.Duration
	// BurstCount: a document and kind summing this many reads within the
	// window is published at once (its partial sum), so that a burst
	// reaches the hot-document detector within milliseconds rather than a
	// window (default DefaultBurstCount; negative disables).
	BurstCount int64
	// BurstInterval is the least time between two early publications
	// (default DefaultBurstInterval): documents crossing BurstCount
	// meanwhile go out together at its end, so a hot document costs the
	// stream at most one round per BurstInterval.
	BurstInterval time.Duration
	// MaxKeys bounds the documents and kinds held in one window (default
	// 65536): reaching it publishes the window early instead of growing.
	MaxKeys int
	// Instance names this process in the events it publishes.
	Instance   string
	Registerer prometheus.Registerer
}

// aggKey: reads of one document and kind are summed, per reader for those
// the audit log records (anonymous reads share the zero Reader).
type aggKey struct {
	doc, kind string
	reader    Reader
}

type aggValue struct {
	count, bytes int64
	last         time.Time
}

// Aggregator sums reads per document and kind and publishes one event per
// document and kind with Count set, so that a document read a thousand
// times a second costs the stream a few events a second, not a thousand.
// Publish never blocks on I/O: it adds to a map under a mutex. Run
// publishes a window after its first read, a document's partial sum early
// when it crosses BurstCount, and what is left when it ends.
type Aggregator struct {
	cfg  AggregatorConfig
	next Publisher
	// opened says a read arrived into an empty window, burst that a key
	// crossed BurstCount, full that MaxKeys was reached (each buffered 1).
	opened, burst, full chan struct{}

	mu      sync.Mutex
	pending map[aggKey]aggValue

	accesses  prometheus.Counter
	published *prometheus.CounterVec
	flushSize prometheus.Histogram
}

// Reasons an aggregator publishes (the reason label of
// docplat_access_aggregated_events_total).
const (
	flushWindow = "window" // the window ended (or filled up, or Run ended)
	flushBurst  = "burst"  // a document crossed the burst count
)

// NewAggregator sums reads for next.
func NewAggregator(next Publisher, cfg AggregatorConfig) (*Aggregator, error) {
	if cfg.Window <= 0 {
		cfg.Window = DefaultAggregateWindow
	}
	if cfg.BurstCount == 0 {
		cfg.BurstCount = DefaultBurstCount
	}
	if cfg.BurstInterval <= 0 {
		cfg.BurstInterval = DefaultBurstInterval
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 1 << 16
	}
	a := &Aggregator{cfg: cfg, next: next, pending: map[aggKey]aggValue{},
		opened: make(chan struct{}, 1), burst: make(chan struct{}, 1), full: make(chan struct{}, 1),
		accesses: prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_access_aggregated_total",
			Help: "Reads reported to the access aggregator (each becomes part of one published event)."}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docplat_access_aggregated_events_total",
			Help: "Aggregated access events handed to the producer, by reason: window (the window ended) or burst (a document crossed the burst count and went out early)."},
			[]string{"reason"}),
		flushSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "docplat_access_aggregator_flush_events",
			Help:    "Events published per round (a window or an early burst publication).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
	}
	a.published.WithLabelValues(flushWindow)
	a.published.WithLabelValues(flushBurst)
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{a.accesses, a.published, a.flushSize} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Publish adds a's reads to the current window. Instance is replaced by
// the aggregator's; At of the published event is the latest read's.
func (g *Aggregator) Publish(a Access) {
	n := a.N()
	k := aggKey{doc: a.DocumentID, kind: a.Kind}
	if a.Reader != nil {
		k.reader = *a.Reader
	}
	g.mu.Lock()
	wasEmpty := len(g.pending) == 0
	v := g.pending[k]
	crossed := g.cfg.BurstCount > 0 && v.count < g.cfg.BurstCount && v.count+n >= g.cfg.BurstCount
	v.count += n
	v.bytes += a.Bytes
	if a.At.After(v.last) {
		v.last = a.At
	}
	g.pending[k] = v
	full := len(g.pending) >= g.cfg.MaxKeys
	g.mu.Unlock()
	g.accesses.Add(float64(n))
	if wasEmpty {
		signal(g.opened)
	}
	if crossed {
		signal(g.burst)
	}
	if full {
		signal(g.full)
	}
}

// Flush publishes the current window now.
func (g *Aggregator) Flush() {
	g.mu.Lock()
	pending := g.pending
	if len(pending) == 0 {
		g.mu.Unlock()
		return
	}
	g.pending = make(map[aggKey]aggValue, len(pending))
	g.mu.Unlock()
	g.publish(pending, flushWindow)
}

// flushBursts publishes the partial sums that reached BurstCount; the
// window goes on for the others.
func (g *Aggregator) flushBursts() {
	var out map[aggKey]aggValue
	g.mu.Lock()
	for k, v := range g.pending {
		if v.count >= g.cfg.BurstCount {
			if out == nil {
				out = map[aggKey]aggValue{}
			}
			out[k] = v
			delete(g.pending, k)
		}
	}
	g.mu.Unlock()
	g.publish(out, flushBurst)
}

func (g *Aggregator) publish(sums map[aggKey]aggValue, reason string) {
	if len(sums) == 0 {
		return
	}
	for k, v := range sums {
		a := Access{DocumentID: k.doc, Kind: k.kind, Bytes: v.bytes, At: v.last, Instance: g.cfg.Instance, Count: v.count}
		if k.reader != (Reader{}) {
			r := k.reader
			a.Reader = &r
		}
		g.next.Publish(a)
	}
	g.published.WithLabelValues(reason).Add(float64(len(sums)))
	g.flushSize.Observe(float64(len(sums)))
}

// Run publishes until ctx ends, then publishes what is left: a clean stop
// loses nothing (the producer's Close then delivers it). With nothing
// read, it sleeps: no timer fires.
func (g *Aggregator) Run(ctx context.Context) {
	window := time.NewTimer(time.Hour)
	window.Stop()
	cooldown := time.NewTimer(time.Hour)
	cooldown.Stop()
	var (
		windowOpen  bool
		coolingDown bool // an early publication was made less than BurstInterval ago
		burstDue    bool // a burst waits for the cool-down to end
	)
	for {
		select {
		case <-ctx.Done():
			g.Flush()
			return
		case <-g.opened:
			if !windowOpen {
				windowOpen = true
				window.Reset(g.cfg.Window)
			}
		case <-window.C:
			windowOpen = false
			g.Flush()
		case <-g.full:
			g.Flush()
		case <-g.burst:
			if coolingDown {
				burstDue = true
				continue
			}
			g.flushBursts()
			coolingDown = true
			cooldown.Reset(g.cfg.BurstInterval)
		case <-cooldown.C:
			coolingDown = false
			if burstDue {
				burstDue = false
				g.flushBursts()
				coolingDown = true
				cooldown.Reset(g.cfg.BurstInterval)
			}
		}
	}
}
