// Package periodic runs a job on a ticker until its context ends: the
// loop every background collector (expired tokens, expired idempotency
// keys) would otherwise write again.
package periodic

import (
	"context"
	"time"
)

// Run calls job every interval until ctx ends; the first call is one
// interval after Run starts. A job that outlasts the interval delays the
// next call rather than overlapping it.
func Run(ctx context.Context, every time.Duration, job func(context.Context)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			job(ctx)
		}
	}
}
