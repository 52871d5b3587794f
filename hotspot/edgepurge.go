package hotspot

import (
	"context"
	"errors"
	"fmt"
	"syscall"
)

// EdgePurger purges a document from every edge when a writer changes it
// (docs.Edge). Only hot documents can be at the edge, so the others cost one
// Redis lookup; see Promoter for why checking the hot set after the commit
// is enough to keep a stale push out.
type EdgePurger struct {
	HotSet *HotSet
	Edges  []Edge
}

// Purge returns once no edge serves id below rev, or the error of one that
// did not confirm it.
func (p EdgePurger) Purge(ctx context.Context, id string, rev int) error {
	hot, err := p.HotSet.Contains(ctx, id)
	if err != nil {
		return err
	}
	if !hot {
		return nil
	}
	var errs []error
	for _, e := range p.Edges {
		err := e.Purge(ctx, id, rev)
		if errors.Is(err, syscall.ECONNREFUSED) {
			// Nothing listens: that nginx is down and serves nothing, and
			// its shared memory does not survive a restart.
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.Name(), err))
		}
	}
	return errors.Join(errs...)
}
