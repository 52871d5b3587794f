package hotspot

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"docplat/internal/envflag"
)

// Pre-warming: a teacher knows when a handout will be read (its lecture,
// its publication); the detector only learns it from the first burst. The
// Prewarmer puts such a document into the hot set shortly before, with a
// hold, so that the promoter pushes it to every nginx (which serves it from
// its not-before, the publication) and every instance warms its L1; the
// hold keeps the detector and the lease janitor from demoting it for lack
// of hits until the lecture has had its grace period. After that the
// detector's normal rules keep or demote it.

// Scheduled is a document due for pre-warming: WarmAt is when it is first
// read (the later of its lecture and its publication).
type Scheduled struct {
	ID     string
	WarmAt time.Time
}

// Schedule lists the documents whose WarmAt lies in [from, to] and that
// the edge can hold (docs.HotSource).
type Schedule interface {
	DueForWarming(ctx context.Context, from, to time.Time) ([]Scheduled, error)
}

// PrewarmOptions are the pre-warmer's settings.
type PrewarmOptions struct {
	// Lead is how long before a document's WarmAt it is promoted.
	Lead time.Duration
	// Grace is how long after WarmAt the hold lasts: the lecture's first
	// minutes, whatever the hit rate.
	Grace time.Duration
}

// Bind declares the pre-warmer's flags.
func (o *PrewarmOptions) Bind(b *envflag.Set) {
	b.Duration(&o.Lead, "prewarm-lead", 5*time.Minute, "a document with a lecture_at or publish_at is promoted into the hot tiers (nginx, every instance's L1) this long before the later of the two; 0 turns pre-warming off")
	b.Duration(&o.Grace, "prewarm-grace", 15*time.Minute, "a pre-warmed document stays hot at least this long after its lecture (or publication), whatever its hit rate")
}

// Validate checks the bounds.
func (o *PrewarmOptions) Validate() error {
	var errs []error
	if o.Lead < 0 || o.Lead > 24*time.Hour {
		errs = append(errs, errors.New("Lead must be between 0 (off) and 24h"))
	}
	if o.Grace < time.Minute || o.Grace > 24*time.Hour {
		errs = append(errs, errors.New("Grace must be between 1m and 24h"))
	}
	return errors.Join(errs...)
}

// PrewarmerConfig configures a Prewarmer.
type PrewarmerConfig struct {
	PrewarmOptions
	HotSet   *HotSet
	Schedule Schedule
	Instance string // for the leadership lease: one instance pre-warms at a time
	// Every is how often the schedule is read [5s]; Rewarm how often a
	// held document's L1 warming is announced again [20s], under the L1
	// TTL so that every instance still holds it at the lecture.
	Every, Rewarm time.Duration
	Now           func() time.Time // [time.Now]
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
}

// Prewarmer promotes scheduled documents ahead of their time; it runs in
// every app instance and acts in the one holding the "prewarm" lease.
type Prewarmer struct {
	cfg      PrewarmerConfig
	log      *slog.Logger
	warmed   prometheus.Counter
	rewarmed time.Time
}

// NewPrewarmer returns a pre-warmer; Run drives it.
func NewPrewarmer(cfg PrewarmerConfig) *Prewarmer {
	if cfg.Every <= 0 {
		cfg.Every = 5 * time.Second
	}
	if cfg.Rewarm <= 0 {
		cfg.Rewarm = 20 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Prewarmer{cfg: cfg, log: cfg.Logger.With("component", "hot-prewarmer"),
		warmed: prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_hot_prewarmed_total",
			Help: "Scheduled documents promoted into the hot set ahead of their lecture or publication."})}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(p.warmed)
	}
	return p
}

// Run pre-warms until ctx ends (at once when Lead is 0: off).
func (p *Prewarmer) Run(ctx context.Context) {
	if p.cfg.Lead <= 0 {
		return
	}
	t := time.NewTicker(p.cfg.Every)
	defer t.Stop()
	for {
		lead, err := p.cfg.HotSet.Lead(ctx, "prewarm", p.cfg.Instance, 3*p.cfg.Every)
		if err == nil && lead {
			if err := p.Step(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("pre-warming scheduled documents (retried next tick)", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Step holds every document due now: WarmAt within Lead ahead or Grace
// behind. A document newly held is announced as a promotion (the promoter
// pushes it, every instance warms its L1); every Rewarm the held ones are
// announced again, so that L1 copies outlive their TTL until the lecture.
func (p *Prewarmer) Step(ctx context.Context) error {
	now := p.cfg.Now()
	due, err := p.cfg.Schedule.DueForWarming(ctx, now.Add(-p.cfg.Grace), now.Add(p.cfg.Lead))
	if err != nil {
		return err
	}
	rewarm := now.Sub(p.rewarmed) >= p.cfg.Rewarm
	var again []string
	for _, s := range due {
		added, err := p.cfg.HotSet.Hold(ctx, s.ID, s.WarmAt.Add(p.cfg.Grace), now)
		if err != nil {
			return err
		}
		if added {
			p.warmed.Inc()
			p.log.Info("scheduled document pre-warmed", "document_id", s.ID, "warm_at", s.WarmAt, "hold_until", s.WarmAt.Add(p.cfg.Grace))
		} else if rewarm && now.Before(s.WarmAt) {
			again = append(again, s.ID)
		}
	}
	if rewarm {
		p.rewarmed = now
		return p.cfg.HotSet.Announce(ctx, OpWarm, again...)
	}
	return nil
}
