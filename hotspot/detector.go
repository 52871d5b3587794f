package hotspot

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// Hot is a document in the hot set.
type Hot struct {
	ID string
	// RatePerSec is the rate measured at the last Advance, a lower bound
	// of the true rate up to the window's interpolation.
	RatePerSec float64
	// Since is when the document became hot (for a seeded one: the time
	// given to Seed).
	Since time.Time
}

// Stats are the detector's counters, for the caller to export.
type Stats struct {
	Observations uint64 // Observe calls
	Events       uint64 // sum of their counts
	Late         uint64 // events dropped because their slice had left the window
	Tracked      int    // counters in use across all slices
	Capacity     int    // most counters the slices can hold
	Hot          int    // size of the hot set
	Promotions   uint64
	Demotions    uint64 // including documents displaced because of MaxHot
	Refused      uint64 // promotions refused because the hot set was full
}

// Detector finds the documents whose access rate is high now. It is not
// safe for concurrent use: call it from one goroutine or behind a mutex.
type Detector struct {
	cfg    Config
	window int64 // cfg.Window in nanoseconds
	// candidateFloor is the count in one slice below which an id cannot
	// reach HotRate: HotRate*Window spread over Slices+1 slices.
	candidateFloor uint64
	win            window
	hot            map[string]*hotDoc

	now     int64     // time of the last Advance
	nowTime time.Time // the same, as the caller gave it
	clocked bool      // Advance has been called

	seen  map[string]struct{} // scratch: candidates already considered
	cands []Hot               // scratch: promotion candidates

	stats Stats
}

type hotDoc struct {
	since   time.Time
	rate    float64
	at      int64 // when this detector made it hot (for a seed: its first Advance)
	seeded  bool  // hot without evidence; immune until a window of evidence
	cooling bool  // rate below CoolRate since below
	below   int64
}

// NewDetector returns a detector for cfg, or the problems of cfg.
func NewDetector(cfg Config) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sliceLen := int64(cfg.Window) / int64(cfg.Slices)
	return &Detector{
		cfg:            cfg,
		window:         int64(cfg.Window),
		candidateFloor: max(1, uint64(math.Floor(cfg.HotRate*cfg.Window.Seconds()/float64(cfg.Slices+1)))),
		win:            newWindow(cfg.Slices, sliceLen, cfg.SliceCapacity),
		hot:            make(map[string]*hotDoc),
		seen:           make(map[string]struct{}),
	}, nil
}

// Observe records n accesses to document id at time at. It never moves the
// window (Advance does): an event later than the current slice counts in
// it, an earlier one in its own slice while that is in the window.
func (d *Detector) Observe(id string, n uint64, at time.Time) {
	d.stats.Observations++
	d.stats.Events += n
	if n == 0 {
		return
	}
	d.win.add(id, n, at.UnixNano())
}

// Advance moves the detector's time to now (earlier times are taken as the
// current one), expires old slices and decides the hot set: a document is
// promoted when its rate reaches HotRate and demoted when its rate has been
// below CoolRate for MinHotDuration. promoted is in decreasing rate order,
// demoted in id order.
func (d *Detector) Advance(now time.Time) (promoted, demoted []string) {
	t := now.UnixNano()
	if d.clocked && t < d.now {
		t, now = d.now, d.nowTime
	}
	d.now, d.nowTime, d.clocked = t, now, true
	d.win.rotateTo(t)

	perSec := float64(time.Second) / float64(d.window)

	for id, h := range d.hot {
		h.rate = d.win.count(id, t) * perSec
		if h.seeded {
			if h.at == noTime {
				h.at = t
			}
			if t-h.at < d.window {
				continue // the window does not yet hold this detector's evidence
			}
			h.seeded = false
		}
		if h.rate >= d.cfg.CoolRate {
			h.cooling = false
			continue
		}
		if !h.cooling {
			h.cooling, h.below = true, t
		}
		if t-h.below >= int64(d.cfg.MinHotDuration) {
			demoted = append(demoted, id)
		}
	}
	for _, id := range demoted {
		delete(d.hot, id)
	}

	d.cands = d.cands[:0]
	clear(d.seen)
	d.win.candidates(d.candidateFloor, func(id string) {
		if _, ok := d.seen[id]; ok {
			return
		}
		d.seen[id] = struct{}{}
		if _, ok := d.hot[id]; ok {
			return
		}
		if rate := d.win.count(id, t) * perSec; rate >= d.cfg.HotRate {
			d.cands = append(d.cands, Hot{ID: id, RatePerSec: rate})
		}
	})
	slices.SortFunc(d.cands, byRate)
	for i, c := range d.cands {
		if len(d.hot) >= d.cfg.MaxHot {
			victim, ok := d.displaceable(t)
			// The same ratio as between HotRate and CoolRate keeps two
			// documents of similar rates from taking turns.
			if !ok || c.RatePerSec < d.hot[victim].rate*d.cfg.HotRate/d.cfg.CoolRate {
				d.stats.Refused += uint64(len(d.cands) - i)
				break
			}
			delete(d.hot, victim)
			demoted = append(demoted, victim)
		}
		d.hot[c.ID] = &hotDoc{since: now, rate: c.RatePerSec, at: t}
		promoted = append(promoted, c.ID)
	}
	slices.Sort(demoted)
	d.stats.Promotions += uint64(len(promoted))
	d.stats.Demotions += uint64(len(demoted))
	return promoted, demoted
}

// displaceable returns the hot document of lowest rate that may give its
// place to a hotter one: hot here for MinHotDuration at least, and, if
// seeded, with a window of evidence.
func (d *Detector) displaceable(t int64) (string, bool) {
	var (
		best  string
		found bool
		rate  float64
	)
	for id, h := range d.hot {
		if t-h.at < int64(d.cfg.MinHotDuration) || (h.seeded && t-h.at < d.window) {
			continue
		}
		if !found || h.rate < rate || (h.rate == rate && id < best) {
			best, rate, found = id, h.rate, true
		}
	}
	return best, found
}

// Hot returns the hot set in decreasing rate order.
func (d *Detector) Hot() []Hot {
	out := make([]Hot, 0, len(d.hot))
	for id, h := range d.hot {
		out = append(out, Hot{ID: id, RatePerSec: h.rate, Since: h.since})
	}
	slices.SortFunc(out, byRate)
	return out
}

// Seed marks id hot without evidence, as when this detector takes over the
// partitions of one that died and inherits its hot set. A seeded document
// is demoted by the usual rules only once a whole window of this
// detector's own evidence has passed. Seed reports false, and does
// nothing, when the hot set is full; seeding a hot document changes
// nothing.
func (d *Detector) Seed(id string, since time.Time) bool {
	if _, ok := d.hot[id]; ok {
		return true
	}
	if len(d.hot) >= d.cfg.MaxHot {
		return false
	}
	at := d.now
	if !d.clocked {
		// The detector has no time yet: the evidence starts at the first
		// Advance.
		at = noTime
	}
	d.hot[strings.Clone(id)] = &hotDoc{since: since, at: at, seeded: true}
	return true
}

// noTime marks a seed made before the first Advance.
const noTime = -1 << 63

// Forget drops every document for which drop is true, from the hot set and
// from the counts, as when this detector no longer owns its partition. It
// returns the hot documents it dropped, in id order; they are not counted
// as demotions, since the new owner keeps them hot.
func (d *Detector) Forget(drop func(id string) bool) []string {
	ids := make(map[string]struct{})
	d.win.removeIf(drop, ids)
	var forgotten []string
	for id := range d.hot {
		if drop(id) {
			forgotten = append(forgotten, id)
		}
	}
	for _, id := range forgotten {
		delete(d.hot, id)
	}
	slices.Sort(forgotten)
	return forgotten
}

// Stats returns the detector's counters.
func (d *Detector) Stats() Stats {
	s := d.stats
	s.Late = d.win.late
	s.Tracked = d.win.tracked()
	s.Capacity = d.win.capacity()
	s.Hot = len(d.hot)
	return s
}

func byRate(a, b Hot) int {
	if c := cmp.Compare(b.RatePerSec, a.RatePerSec); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
