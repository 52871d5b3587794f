package txn

import (
	"context"
	"encoding/json"
	"time"
)

// Run resumes unfinished transactions (after a crash, or when an
// acknowledgement did not come) and collects finished log rows, until ctx ends.
func (c *Coordinator) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	loop(ctx, every, func() { c.Recover(ctx, c.opt.RecoverAfter) }, func() {
		res := c.opt.DB.WithContext(ctx).Where("state IN ? AND updated_at < ?",
			[]string{logCommitted, logAborted, logHeuristic}, c.now().Add(-c.opt.Retention)).Delete(&coordinatorRow{})
		if res.Error != nil {
			c.log.Warn("collecting finished transactions", "err", res.Error)
		}
	})
}

// Recover finishes every unfinished transaction older than age (PROTOCOL.md,
// coordinator rule 4): started -> abort; precommit/committing -> commit
// (unless a participant has aborted); aborting -> abort.
func (c *Coordinator) Recover(ctx context.Context, age time.Duration) int {
	var rows []coordinatorRow
	err := c.opt.DB.WithContext(ctx).Where("state IN ? AND updated_at < ?",
		[]string{logStarted, logPrecommit, logCommitting, logAborting}, c.now().Add(-age)).Limit(100).Find(&rows).Error
	if err != nil {
		c.log.Warn("finding unfinished transactions", "err", err)
		return 0
	}
	n := 0
	for _, row := range rows {
		if _, busy := c.inflight.Load(row.Txid); busy {
			continue
		}
		var branches []Branch
		if err := json.Unmarshal([]byte(row.Branches), &branches); err != nil {
			c.log.Error("unreadable transaction log row", "txid", row.Txid, "err", err)
			continue
		}
		c.inflight.Store(row.Txid, true)
		switch row.State {
		case logStarted, logAborting:
			err = c.abort(ctx, row.Txid, branches)
		default:
			_, _, err = c.finishCommit(ctx, row.Txid, branches)
		}
		c.inflight.Delete(row.Txid)
		c.opt.Metrics.recovered.Inc()
		c.log.Info("transaction recovered", "txid", row.Txid, "from", row.State, "err", err)
		n++
	}
	return n
}
