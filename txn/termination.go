package txn

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"
)

// Run enforces the participant's timeouts until ctx ends: branches whose
// deadline passed without a message are terminated (PROTOCOL.md,
// participant rule 3), and finished rows past retention are collected.
func (p *ParticipantEngine) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	loop(ctx, every, func() { p.TerminateExpired(ctx) }, func() {
		if n, err := p.Collect(ctx); err != nil {
			p.log.Warn("collecting finished transaction rows", "err", err)
		} else if n > 0 {
			p.log.Info("finished transaction rows collected", "count", n)
		}
	})
}

// TerminateExpired decides every branch whose deadline has passed.
func (p *ParticipantEngine) TerminateExpired(ctx context.Context) {
	var rows []participantRow
	err := p.opt.DB.WithContext(ctx).Where("participant = ? AND state IN ? AND deadline < ?", p.opt.Name,
		[]string{string(StateReady), string(StatePrecommitted)}, p.now()).Limit(100).Find(&rows).Error
	if err != nil {
		p.log.Warn("finding expired transaction branches", "err", err)
		return
	}
	for _, row := range rows {
		p.terminate(ctx, row)
	}
}

// terminate asks the coordinator, then the peers, and decides.
func (p *ParticipantEngine) terminate(ctx context.Context, row participantRow) {
	decision, source := p.ask(ctx, row)
	var err error
	switch decision {
	case DecisionPending:
		err = p.inTx(ctx, row.Txid, func(tx *gorm.DB, cur *participantRow) error {
			if cur == nil || State(cur.State) != State(row.State) {
				return nil
			}
			return p.setState(tx, cur, State(cur.State), p.now().Add(p.opt.ReadyTimeout))
		})
	case DecisionCommit:
		err = p.DoCommit(ctx, row.Txid)
	default:
		err = p.Abort(ctx, row.Txid)
	}
	p.opt.Metrics.timeouts.WithLabelValues(p.opt.Name, string(decision)).Inc()
	p.log.Warn("transaction branch timed out and was terminated", "txid", row.Txid, "state", row.State,
		"decision", decision, "decided_by", source, "err", err)
}

func (p *ParticipantEngine) ask(ctx context.Context, row participantRow) (Decision, string) {
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if p.opt.Coordinator != nil {
		if d, err := p.opt.Coordinator.Status(qctx, row.Txid); err == nil {
			return d, "coordinator"
		}
	}
	// The coordinator does not answer: ask the peers (cooperative termination).
	var peers []string
	_ = json.Unmarshal([]byte(row.Peers), &peers)
	anyPrecommitted := State(row.State) == StatePrecommitted
	for _, name := range peers {
		if name == p.opt.Name || p.opt.Peers == nil {
			continue
		}
		peer := p.opt.Peers(name)
		if peer == nil {
			continue
		}
		s, err := peer.State(qctx, row.Txid)
		if err != nil {
			continue // a peer that does not answer tells nothing
		}
		switch s {
		case StateCommitted:
			return DecisionCommit, "peer " + name
		case StateAborted, StateNone:
			return DecisionAbort, "peer " + name
		case StatePrecommitted:
			anyPrecommitted = true
		}
	}
	if anyPrecommitted {
		return DecisionCommit, "precommitted branch"
	}
	return DecisionAbort, "timeout while uncertain"
}

// Collect deletes finished rows older than the retention.
func (p *ParticipantEngine) Collect(ctx context.Context) (int64, error) {
	res := p.opt.DB.WithContext(ctx).Where("participant = ? AND state IN ? AND updated_at < ?", p.opt.Name,
		[]string{string(StateCommitted), string(StateAborted)}, p.now().Add(-p.opt.Retention)).Delete(&participantRow{})
	return res.RowsAffected, res.Error
}
