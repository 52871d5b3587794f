package hotspot

import (
	"context"
	"log/slog"
	"time"

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
// share one event per window.
func ForwardHits(ctx context.Context, edges []HitSource, pub Publisher, instance string, every time.Duration, log *slog.Logger) {
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
			}
		}
	}
}
