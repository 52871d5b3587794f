package txn

import (
	"context"
	"time"
)

// loop calls tick every interval and collect about once a minute, until ctx ends.
func loop(ctx context.Context, interval time.Duration, tick, collect func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var collected time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tick()
		if time.Since(collected) > time.Minute {
			collected = time.Now()
			collect()
		}
	}
}
