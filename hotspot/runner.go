package hotspot

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"docplat/events"
)

// RunnerConfig configures a Runner. Zero durations take the defaults in brackets.
type RunnerConfig struct {
	Detector Config
	HotSet   *HotSet
	// Tick is how often the detectors advance and decide [a slice / 2].
	Tick time.Duration
	// Lease is how long a hot entry lives without renewal [15s]: longer
	// than a consumer-group rebalance, so a dead detector's hot set is
	// still there when its partitions' new owner seeds from it.
	Lease      time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Runner is one detector instance: a Detector per partition of the access
// topic it owns (a document's events all arrive on one partition, so each
// detector sees all of its documents' traffic), fed by the consumer group
// and publishing its decisions to the shared hot set.
type Runner struct {
	cfg   RunnerConfig
	log   *slog.Logger
	now   func() time.Time
	mu    sync.Mutex
	parts map[int32]*Detector

	events     prometheus.Counter
	promotions prometheus.Counter
	demotions  *prometheus.CounterVec
	hot        prometheus.Gauge
	tracked    prometheus.Gauge
}

// NewRunner validates the detector configuration.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if err := cfg.Detector.Validate(); err != nil {
		return nil, err
	}
	if cfg.Tick <= 0 {
		cfg.Tick = cfg.Detector.Window / time.Duration(cfg.Detector.Slices) / 2
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 15 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Runner{cfg: cfg, log: cfg.Logger.With("component", "hotspot"), now: time.Now, parts: map[int32]*Detector{},
		events: prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_hotspot_events_total",
			Help: "Accesses the hotspot detector observed (nginx's aggregated hits count as many)."}),
		promotions: prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_hotspot_promotions_total",
			Help: "Documents this detector promoted to the hot set."}),
		demotions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docplat_hotspot_demotions_total",
			Help: "Documents removed from the hot set, by reason (cooled, lease_expired)."}, []string{"reason"}),
		hot: prometheus.NewGauge(prometheus.GaugeOpts{Name: "docplat_hotspot_owned_hot_documents",
			Help: "Hot documents on the partitions this detector owns."}),
		tracked: prometheus.NewGauge(prometheus.GaugeOpts{Name: "docplat_hotspot_tracked_counters",
			Help: "Heavy-hitter counters in use across this detector's partitions (bounded by configuration)."}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(r.events, r.promotions, r.demotions, r.hot, r.tracked)
	}
	return r, nil
}

// Assigned creates a detector per new partition, seeded with the hot
// documents the partition's previous owner had published.
func (r *Runner) Assigned(ctx context.Context, parts []int32) {
	entries, err := r.cfg.HotSet.List(ctx)
	if err != nil {
		r.log.Warn("reading the hot set to seed new partitions (they start cold)", "err", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seeded := 0
	for _, p := range parts {
		d, err := NewDetector(r.cfg.Detector)
		if err != nil {
			continue // validated in NewRunner
		}
		for _, e := range entries {
			if e.Partition == p && d.Seed(e.ID, e.Since) {
				seeded++
			}
		}
		r.parts[p] = d
	}
	r.log.Info("partitions assigned", "partitions", parts, "seeded_hot", seeded)
}

// Revoked drops the partitions' detectors. Their hot entries stay in the
// hot set: the new owner seeds from them and renews their leases.
func (r *Runner) Revoked(_ context.Context, parts []int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range parts {
		delete(r.parts, p)
	}
	r.log.Info("partitions revoked", "partitions", parts)
}

// Handle observes a batch of one partition's records; it is the consumer
// group's handler.
func (r *Runner) Handle(_ context.Context, partition int32, recs []events.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.parts[partition]
	if d == nil {
		return nil // revoked between fetch and handling
	}
	var n int64
	for _, rec := range recs {
		c := rec.Access.N()
		d.Observe(rec.Access.DocumentID, uint64(c), rec.Access.At)
		n += c
	}
	r.events.Add(float64(n))
	return nil
}

// Run advances the detectors every tick and publishes their decisions,
// renews the leases of the hot documents it owns, and demotes entries
// whose lease ran out, until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	tick := time.NewTicker(r.cfg.Tick)
	defer tick.Stop()
	var renewed time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := r.now()
		renew := now.Sub(renewed) > r.cfg.Lease/5
		if err := r.step(ctx, now, renew); err != nil {
			r.log.Warn("publishing hot-set changes (retried next tick)", "err", err)
			continue
		}
		if renew {
			renewed = now
			r.expire(ctx, now)
		}
	}
}

// step advances every detector to now and writes what changed; with renew
// it also rewrites every owned entry with a fresh lease.
func (r *Runner) step(ctx context.Context, now time.Time, renew bool) error {
	var put []Entry
	var promoted, demoted []string
	r.mu.Lock()
	hotCount, tracked := 0, 0
	for p, d := range r.parts {
		up, down := d.Advance(now)
		promoted = append(promoted, up...)
		demoted = append(demoted, down...)
		for _, h := range d.Hot() {
			if renew || slices.Contains(up, h.ID) {
				put = append(put, Entry{ID: h.ID, RatePerSec: h.RatePerSec, Since: h.Since, Partition: p, LeaseUntil: now.Add(r.cfg.Lease)})
			}
		}
		st := d.Stats()
		hotCount += st.Hot
		tracked += st.Tracked
	}
	r.mu.Unlock()
	r.hot.Set(float64(hotCount))
	r.tracked.Set(float64(tracked))
	if err := r.cfg.HotSet.Put(ctx, put, promoted); err != nil {
		return err
	}
	if len(demoted) > 0 {
		// A pre-warmed document is not demoted for lack of hits before
		// its lecture's grace period ends: its entry stays (the lease
		// janitor removes it once the hold ends).
		holds, err := r.cfg.HotSet.Holds(ctx, now)
		if err != nil {
			return err
		}
		demoted = slices.DeleteFunc(demoted, func(id string) bool { _, held := holds[id]; return held })
	}
	if err := r.cfg.HotSet.Remove(ctx, demoted...); err != nil {
		return err
	}
	r.promotions.Add(float64(len(promoted)))
	r.demotions.WithLabelValues("cooled").Add(float64(len(demoted)))
	for _, id := range promoted {
		r.log.Info("document promoted to the hot set", "document_id", id)
	}
	for _, id := range demoted {
		r.log.Info("document demoted from the hot set", "document_id", id)
	}
	return nil
}

// expire demotes entries nobody renewed: their detector is gone and no
// other took the partition over within the lease.
func (r *Runner) expire(ctx context.Context, now time.Time) {
	entries, err := r.cfg.HotSet.List(ctx)
	if err != nil {
		return
	}
	holds, err := r.cfg.HotSet.Holds(ctx, now)
	if err != nil {
		return
	}
	var stale []string
	for _, e := range entries {
		if _, held := holds[e.ID]; held {
			continue
		}
		if now.After(e.LeaseUntil) {
			stale = append(stale, e.ID)
		}
	}
	if len(stale) > 0 && r.cfg.HotSet.Remove(ctx, stale...) == nil {
		r.demotions.WithLabelValues("lease_expired").Add(float64(len(stale)))
		r.log.Info("hot entries demoted: lease expired", "documents", stale)
	}
}
