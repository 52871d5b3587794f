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

// AggregatorConfig configures an Aggregator.
type AggregatorConfig struct {
	// Window is how long reads are summed before they are published
	// (default 50ms). It is added to the time a burst takes to reach the
	// hot-document detector, so it stays short; and it is what a crash of
	// the process loses at most.
	Window time.Duration
	// MaxKeys bounds the documents and kinds held in one window (default
	// 65536): reaching it publishes the window early instead of growing.
	MaxKeys int
	// Instance names this process in the events it publishes.
	Instance   string
	Registerer prometheus.Registerer
}

type aggKey struct{ doc, kind string }

type aggValue struct {
	count, bytes int64
	last         time.Time
}

// Aggregator sums reads per document and kind over a short window and
// publishes one event per document and kind with Count set, so that a
// document read a thousand times a second costs the stream a few events a
// second, not a thousand. Publish never blocks on I/O: it adds to a map
// under a mutex. Run publishes every window, and once more when it ends.
type Aggregator struct {
	cfg  AggregatorConfig
	next Publisher
	kick chan struct{}

	mu      sync.Mutex
	pending map[aggKey]aggValue

	accesses  prometheus.Counter
	published prometheus.Counter
	flushSize prometheus.Histogram
}

// NewAggregator sums reads for next.
func NewAggregator(next Publisher, cfg AggregatorConfig) (*Aggregator, error) {
	if cfg.Window <= 0 {
		cfg.Window = 50 * time.Millisecond
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 1 << 16
	}
	a := &Aggregator{cfg: cfg, next: next, kick: make(chan struct{}, 1), pending: map[aggKey]aggValue{},
		accesses: prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_access_aggregated_total",
			Help: "Reads reported to the access aggregator (each becomes part of one published event)."}),
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_access_aggregated_events_total",
			Help: "Aggregated access events handed to the producer (one per document and kind per window)."}),
		flushSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "docplat_access_aggregator_flush_events",
			Help:    "Events published per aggregation window.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{a.accesses, a.published, a.flushSize} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

// Publish adds a's reads to the current window. Instance is replaced by
// the aggregator's; At of the published event is the latest read's.
func (g *Aggregator) Publish(a Access) {
	n := a.N()
	k := aggKey{a.DocumentID, a.Kind}
	g.mu.Lock()
	v := g.pending[k]
	v.count += n
	v.bytes += a.Bytes
	if a.At.After(v.last) {
		v.last = a.At
	}
	g.pending[k] = v
	full := len(g.pending) >= g.cfg.MaxKeys
	g.mu.Unlock()
	g.accesses.Add(float64(n))
	if full {
		select {
		case g.kick <- struct{}{}:
		default:
		}
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
	for k, v := range pending {
		g.next.Publish(Access{DocumentID: k.doc, Kind: k.kind, Bytes: v.bytes, At: v.last, Instance: g.cfg.Instance, Count: v.count})
	}
	g.published.Add(float64(len(pending)))
	g.flushSize.Observe(float64(len(pending)))
}

// Run publishes every window until ctx ends, then publishes what is left:
// a clean stop loses nothing (the producer's Close then delivers it).
func (g *Aggregator) Run(ctx context.Context) {
	t := time.NewTicker(g.cfg.Window)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			g.Flush()
			return
		case <-t.C:
		case <-g.kick:
		}
		g.Flush()
	}
}
