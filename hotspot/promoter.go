package hotspot

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Content is a hot document's current bytes and the headers the edge
// serves them with.
type Content struct {
	ID         string
	Rev        int // metadata revision: the fence against stale pushes
	Version    int
	Visibility string // public | department | private: whether the edge needs a read token
	// NotBefore (zero: none) is the document's publication time: the edge
	// holds it ahead of time (a pre-warmed handout) but serves it only
	// from then on.
	NotBefore time.Time
	// View and Download are every header of the app's full answer to a
	// view and to a download (?download=1), which the edge replays.
	View, Download http.Header
	Body           []byte
}

// EdgeEntry is what one edge (an nginx) holds for a document.
type EdgeEntry struct {
	ID  string
	Rev int
}

// Edge is one nginx's hot tier as the promoter drives it (nginx.Edge).
type Edge interface {
	Name() string
	Push(ctx context.Context, c Content) error
	// Purge evicts the entry if its revision is rev or older and refuses
	// later pushes older than rev.
	Purge(ctx context.Context, id string, rev int) error
	List(ctx context.Context) ([]EdgeEntry, error)
}

// Source (docs.HotSource) reads a document's current content straight from the source of
// truth (never a cache: see Promoter). ErrNotPromotable: it cannot be
// served from the edge (gone, too large).
type Source interface {
	HotContent(ctx context.Context, id string) (Content, error)
	// HotRevision is the document's current revision from the same source,
	// without its bytes: Reconcile runs every half second and must not
	// re-read every hot blob just to learn that the edges are current.
	HotRevision(ctx context.Context, id string) (int, error)
}

// ErrNotPromotable is returned by a Source for documents the edge must not hold.
var ErrNotPromotable = errors.New("hotspot: document cannot be promoted to the edge")

// ErrStale is returned by an Edge that refuses a push older than what it holds or purged.
var ErrStale = errors.New("hotspot: the edge holds or purged a newer revision")

// PromoterConfig configures a Promoter.
type PromoterConfig struct {
	HotSet   *HotSet
	Edges    []Edge
	Source   Source
	Instance string // this app instance, for the leadership lease
	// Warm pre-warms this instance's L1 with a promoted document.
	Warm func(ctx context.Context, id string)
	// Every is the reconcile period [500ms]; changes announced on the hot
	// set's channel trigger one at once.
	Every      time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Promoter keeps every edge's hot tier equal to the hot set: it pushes the
// current content of hot documents the edge lacks (or holds at an older
// revision) and purges documents no longer hot. It runs in every app
// instance; one of them at a time (a Redis lease) reconciles the edges,
// and every one of them pre-warms its own L1 on promotion.
//
// Why a stale push cannot win: the promoter reads a document after seeing
// it in the hot set, and a writer checks the hot set after committing and
// then purges with the committed revision (EdgePurger). Either the writer
// saw the document hot, and its purge's tombstone refuses any older push,
// or it did not, and then the promoter's read came after the commit.
type Promoter struct {
	cfg     PromoterConfig
	log     *slog.Logger
	kick    chan struct{}
	pushes  *prometheus.CounterVec
	purges  prometheus.Counter
	lastErr map[string]string
}

// NewPromoter returns a promoter; Run drives it.
func NewPromoter(cfg PromoterConfig) *Promoter {
	if cfg.Every <= 0 {
		cfg.Every = 500 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Promoter{cfg: cfg, log: cfg.Logger.With("component", "hot-promoter"), kick: make(chan struct{}, 1), lastErr: map[string]string{},
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docplat_hot_edge_pushes_total",
			Help: "Hot documents pushed to an nginx hot tier, by result."}, []string{"result"}),
		purges: prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_hot_edge_demotions_total",
			Help: "Documents purged from an nginx hot tier because they left the hot set."}),
	}
	for _, r := range []string{"pushed", "stale", "failed", "not_promotable"} { // at 0 from the start, for alerts' increase()
		p.pushes.WithLabelValues(r)
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(p.pushes, p.purges)
	}
	return p
}

// Run reconciles until ctx ends.
func (p *Promoter) Run(ctx context.Context) {
	go func() {
		for ctx.Err() == nil {
			err := p.cfg.HotSet.Subscribe(ctx, func(c Change) {
				if (c.Op == "promote" || c.Op == OpWarm) && p.cfg.Warm != nil {
					p.cfg.Warm(ctx, c.ID)
				}
				select {
				case p.kick <- struct{}{}:
				default:
				}
			})
			if err != nil && ctx.Err() == nil {
				p.log.Warn("hot-set subscription lost; reconciling on the timer until it is back", "err", err)
				sleepCtx(ctx, time.Second)
			}
		}
	}()
	t := time.NewTicker(p.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.kick:
		}
		lead, err := p.cfg.HotSet.Lead(ctx, "promoter", p.cfg.Instance, 3*p.cfg.Every+time.Second)
		if err != nil || !lead {
			continue
		}
		p.Reconcile(ctx)
	}
}

// Reconcile makes every edge hold exactly the hot set, once.
func (p *Promoter) Reconcile(ctx context.Context) {
	hot, err := p.cfg.HotSet.List(ctx)
	if err != nil {
		p.log.Warn("reading the hot set", "err", err)
		return
	}
	want := map[string]bool{}
	for _, e := range hot {
		want[e.ID] = true
	}
	held := make([]map[string]int, len(p.cfg.Edges))
	for i, edge := range p.cfg.Edges {
		entries, err := edge.List(ctx)
		if err != nil {
			p.warnOnce(edge.Name(), "listing an nginx hot tier", err)
			continue
		}
		delete(p.lastErr, edge.Name())
		held[i] = map[string]int{}
		for _, e := range entries {
			held[i][e.ID] = e.Rev
			if !want[e.ID] {
				// At the held revision, not above it: a demotion is no
				// write, and fencing rev+1 would refuse the same revision
				// for the tombstone's lifetime if the document heats up
				// again (a lecture's break).
				if err := edge.Purge(ctx, e.ID, e.Rev); err == nil {
					p.purges.Inc()
				}
			}
		}
	}
	for _, e := range hot {
		if current, err := p.edgesCurrent(ctx, e.ID, held); err != nil || current {
			continue
		}
		var content *Content
		for i, edge := range p.cfg.Edges {
			if held[i] == nil {
				continue // that edge did not answer
			}
			if content == nil {
				c, err := p.cfg.Source.HotContent(ctx, e.ID)
				if errors.Is(err, ErrNotPromotable) {
					// Deleted since, or too large for the edge: no longer a candidate.
					p.pushes.WithLabelValues("not_promotable").Inc()
					_ = p.cfg.HotSet.Remove(ctx, e.ID)
					break
				}
				if err != nil {
					p.log.Warn("reading a hot document", "document_id", e.ID, "err", err)
					break
				}
				content = &c
			}
			if rev, ok := held[i][e.ID]; ok && rev >= content.Rev {
				continue
			}
			switch err := edge.Push(ctx, *content); {
			case err == nil:
				p.pushes.WithLabelValues("pushed").Inc()
			case errors.Is(err, ErrStale):
				p.pushes.WithLabelValues("stale").Inc() // a write purged it meanwhile: the next round pushes the new revision
			default:
				p.pushes.WithLabelValues("failed").Inc()
				p.warnOnce(edge.Name(), "pushing a hot document", err)
			}
		}
	}
}

// edgesCurrent reports whether every edge that answered already holds id
// at its current revision, reading the revision only (not the bytes). A
// document that can no longer be promoted leaves the hot set.
func (p *Promoter) edgesCurrent(ctx context.Context, id string, held []map[string]int) (bool, error) {
	oldest, answered := -1, false
	for _, h := range held {
		if h == nil {
			continue // that edge did not answer
		}
		rev, ok := h[id]
		if !ok {
			return false, nil
		}
		if !answered || rev < oldest {
			oldest = rev
		}
		answered = true
	}
	if !answered {
		return true, nil // nobody to push to this round
	}
	rev, err := p.cfg.Source.HotRevision(ctx, id)
	if errors.Is(err, ErrNotPromotable) {
		p.pushes.WithLabelValues("not_promotable").Inc()
		_ = p.cfg.HotSet.Remove(ctx, id)
		return true, nil // the next round purges it from the edges
	}
	if err != nil {
		p.log.Warn("reading a hot document's revision", "document_id", id, "err", err)
		return false, err
	}
	return oldest >= rev, nil
}

// warnOnce logs an edge's failure when it starts, not on every round.
func (p *Promoter) warnOnce(edge, what string, err error) {
	if p.lastErr[edge] == err.Error() {
		return
	}
	p.lastErr[edge] = err.Error()
	p.log.Warn(what, "edge", edge, "err", err)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
