package hotspot

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"docplat/events"
)

// Hit is one document's hot-tier hits since the last drain.
type Hit struct {
	DocumentID string
	Kind       string // view | download
	Count      int64
	Bytes      int64
}

// HitSource is an edge whose hits can be drained (nginx.Edge).
type HitSource interface {
	Name() string
	DrainHits(ctx context.Context) ([]Hit, error)
}

// Publisher takes access events (events.Producer).
type Publisher interface {
	Publish(events.Access)
}

// ForwardHits drains every edge's hit counters each interval and publishes
// them as aggregated access events, until ctx ends. Requests the hot tier
// answers never reach Go: without this a promoted document would look
// cold to the detector and to the statistics, and be demoted at once.
// Drains are atomic at the edge, so several app instances may forward.
// pub is the instance's read aggregator, so hits and reads of a document
// share one event per window. counted (NewEdgeHitsCounter; nil: none)
// adds up the hits drained: the reads no app instance saw.
func ForwardHits(ctx context.Context, edges []HitSource, pub Publisher, instance string, every time.Duration, counted prometheus.Counter, log *slog.Logger) {
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	failing := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now().UTC()
		for _, e := range edges {
			hits, err := e.DrainHits(ctx)
			if err != nil {
				if !failing[e.Name()] {
					log.Warn("draining an nginx hot tier's hit counters (retrying)", "edge", e.Name(), "err", err)
				}
				failing[e.Name()] = true
				continue
			}
			failing[e.Name()] = false
			for _, h := range hits {
				if h.Count <= 0 {
					continue
				}
				pub.Publish(events.Access{DocumentID: h.DocumentID, Kind: h.Kind, Bytes: h.Bytes, Count: h.Count, At: now, Instance: instance})
				if counted != nil {
					counted.Add(float64(h.Count))
				}
			}
		}
	}
}

// NewEdgeHitsCounter is ForwardHits' count of the reads the nginx hot
// tiers answered themselves, registered on reg (nil: not registered).
// A drain empties the edge's counters, so the sum over the instances is
// every edge's hits: beside the apps' content requests, the hot tier's
// share of the reads.
func NewEdgeHitsCounter(reg prometheus.Registerer) (prometheus.Counter, error) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "docplat_hot_edge_hits_total",
		Help: "Reads (views and downloads) the nginx hot tiers answered from memory, drained by this instance."})
	if reg != nil {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}
