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
// coordinator rule 4): started/aborting -> abort; committing -> DoCommit;
// precommit -> resend PreCommit if this process logged it, otherwise (it
// comes from before a restart) decide from the participants' rows once the
// restart grace has passed.
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
		_, here := c.decidedHere.Load(row.Txid)
		if row.State == logPrecommit && !here && c.now().Sub(c.started) < c.opt.RestartGrace {
			continue // termination runs begun while this process was down may still be going
		}
		var branches []Branch
		if err := json.Unmarshal([]byte(row.Branches), &branches); err != nil {
			c.log.Error("unreadable transaction log row", "txid", row.Txid, "err", err)
			continue
		}
		c.inflight.Store(row.Txid, true)
		how := row.State
		switch {
		case row.State == logStarted, row.State == logAborting:
			err = c.abort(ctx, row.Txid, branches)
		case row.State == logCommitting:
			_, _, err = c.doCommit(ctx, row.Txid, branches)
		case here:
			_, _, err = c.finishCommit(ctx, row.Txid, branches)
		default:
			how, err = c.recoverPrecommit(ctx, row.Txid, branches)
		}
		c.inflight.Delete(row.Txid)
		if how == "" {
			continue // nobody answered: wait for a participant to come back
		}
		c.opt.Metrics.recovered.Inc()
		c.log.Info("transaction recovered", "txid", row.Txid, "from", row.State, "by", how, "err", err)
		n++
	}
	return n
}

// recoverPrecommit decides a transaction left in `precommit` by an earlier
// process. While it was down the participants may have terminated on their
// own, so the log alone does not tell the outcome: the rows do, by the
// same rule the participants' backup applies (termination.go). It returns
// how it decided, or "" when no participant answered (any of them may have
// decided either way: 3PC's total-failure case, so it waits).
func (c *Coordinator) recoverPrecommit(ctx context.Context, txid string, branches []Branch) (string, error) {
	qctx, cancel := context.WithTimeout(ctx, c.opt.AckTimeout)
	states := map[string]State{}
	for _, b := range branches {
		if s, err := c.opt.Participants[b.Participant].State(qctx, txid); err == nil {
			states[b.Participant] = s
		}
	}
	cancel()
	if len(states) == 0 {
		return "", nil
	}
	switch decideFromRows(states) {
	case DecisionCommit:
		if anyState(states, StateCommitted) {
			c.decidedHere.Delete(txid)
			_, _, err := c.commit(ctx, txid, branches)
			return "rows: a participant committed", err
		}
		// Some are precommitted, none decided: finish the written way.
		c.decidedHere.Store(txid, true)
		_, _, err := c.finishCommit(ctx, txid, branches)
		return "rows: a participant precommitted", err
	default:
		c.decidedHere.Delete(txid)
		return "rows: no participant precommitted, or one aborted", c.abort(ctx, txid, branches)
	}
}
