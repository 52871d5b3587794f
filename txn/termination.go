package txn

import (
	"context"
	"encoding/json"
	"errors"
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

// defaultTerminationTimeout bounds one termination run; the coordinator's
// restart grace must be longer.
const defaultTerminationTimeout = 3 * time.Second

// terminate decides a branch whose deadline passed (PROTOCOL.md,
// participant rule 3). The coordinator is asked first. If it does not
// answer, only the backup decides: the first participant, in the
// transaction's order, that is alive and undecided. A participant finding
// an earlier one undecided waits for it; one finding an earlier one decided
// takes its decision. The backup brings every reachable peer to its
// decision before making its own final, so that if it crashes half-way the
// next in line finds the rows it left and reaches the same decision.
func (p *ParticipantEngine) terminate(ctx context.Context, row participantRow) {
	ctx, cancel := context.WithTimeout(ctx, p.opt.TerminationTimeout)
	defer cancel()
	decision, source, err := p.terminateOnce(ctx, row)
	if decision == DecisionPending {
		err = errors.Join(err, p.wait(ctx, row))
	}
	p.opt.Metrics.timeouts.WithLabelValues(p.opt.Name, string(decision)).Inc()
	p.log.Warn("transaction branch timed out", "txid", row.Txid, "state", row.State,
		"decision", decision, "decided_by", source, "err", err)
}

func (p *ParticipantEngine) terminateOnce(ctx context.Context, row participantRow) (Decision, string, error) {
	if p.opt.Coordinator != nil {
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		d, err := p.opt.Coordinator.Status(qctx, row.Txid)
		cancel()
		if err == nil {
			return d, "coordinator", p.apply(ctx, row.Txid, d)
		}
	}
	var names []string
	_ = json.Unmarshal([]byte(row.Peers), &names)
	peers := map[string]Participant{}
	states := map[string]State{}
	backup := true
	for _, name := range names {
		if name == p.opt.Name {
			backup = false // only peers after us are left to ask
			continue
		}
		peer := p.peer(name)
		if peer == nil {
			continue
		}
		s, err := p.stateOf(ctx, peer, row.Txid)
		if err != nil {
			continue // a peer that does not answer has crashed, for all we can tell
		}
		if backup && (s == StateReady || s == StatePrecommitted) {
			// An earlier participant is alive and undecided: it is the
			// backup, not us.
			return DecisionPending, "waiting for backup " + name, nil
		}
		if s == StateCommitted || s == StateAborted || s == StateNone {
			d := map[bool]Decision{true: DecisionCommit, false: DecisionAbort}[s == StateCommitted]
			return d, "peer " + name, p.apply(ctx, row.Txid, d)
		}
		peers[name], states[name] = peer, s
	}
	// We are the backup.
	self, err := p.State(ctx, row.Txid)
	if err != nil {
		return DecisionPending, "own row unreadable", err
	}
	if self != StateReady && self != StatePrecommitted {
		return DecisionPending, "already " + string(self), nil
	}
	states[p.opt.Name] = self
	d := decideFromRows(states)
	if d == DecisionCommit {
		for name, peer := range peers {
			if states[name] != StateReady {
				continue
			}
			if err := peer.PreCommit(ctx, row.Txid); errors.Is(err, ErrRefused) {
				// It decided abort after we read it: only a partition allows
				// that. Start again from fresh rows.
				return DecisionPending, "backup: peer " + name + " refused PreCommit", err
			}
		}
		if err := p.DoCommit(ctx, row.Txid); err != nil {
			return d, "backup", err
		}
		for _, peer := range peers {
			_ = peer.DoCommit(ctx, row.Txid) // best effort: the peer also finds our committed row
		}
		return d, "backup", nil
	}
	for name, peer := range peers {
		if err := peer.Abort(ctx, row.Txid); errors.Is(err, ErrRefused) {
			return DecisionPending, "backup: peer " + name + " refused Abort", err
		}
	}
	return d, "backup", p.Abort(ctx, row.Txid)
}

// decideFromRows is the termination rule over the rows that could be read:
// any committed -> commit; any aborted or missing -> abort; any
// precommitted -> commit; all ready -> abort.
func decideFromRows(states map[string]State) Decision {
	switch {
	case anyState(states, StateCommitted):
		return DecisionCommit
	case anyState(states, StateAborted, StateNone):
		return DecisionAbort
	case anyState(states, StatePrecommitted):
		return DecisionCommit
	}
	return DecisionAbort
}

func anyState(states map[string]State, want ...State) bool {
	for _, s := range states {
		for _, w := range want {
			if s == w {
				return true
			}
		}
	}
	return false
}

func (p *ParticipantEngine) peer(name string) Participant {
	if p.opt.Peers == nil {
		return nil
	}
	return p.opt.Peers(name)
}

func (p *ParticipantEngine) stateOf(ctx context.Context, peer Participant, txid string) (State, error) {
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return peer.State(qctx, txid)
}

// apply carries out a decision learned from the coordinator or a peer.
func (p *ParticipantEngine) apply(ctx context.Context, txid string, d Decision) error {
	switch d {
	case DecisionCommit:
		return p.DoCommit(ctx, txid)
	case DecisionAbort:
		return p.Abort(ctx, txid)
	}
	return nil
}

// wait pushes the branch's deadline out by its state's timeout.
func (p *ParticipantEngine) wait(ctx context.Context, row participantRow) error {
	return p.inTx(ctx, row.Txid, func(tx *gorm.DB, cur *participantRow) error {
		if cur == nil || cur.State != row.State {
			return nil
		}
		timeout := p.opt.ReadyTimeout
		if State(cur.State) == StatePrecommitted {
			timeout = p.opt.PrecommitTimeout
		}
		return p.setState(tx, cur, State(cur.State), p.now().Add(timeout))
	})
}

// Collect deletes finished rows older than the retention.
func (p *ParticipantEngine) Collect(ctx context.Context) (int64, error) {
	res := p.opt.DB.WithContext(ctx).Where("participant = ? AND state IN ? AND updated_at < ?", p.opt.Name,
		[]string{string(StateCommitted), string(StateAborted)}, p.now().Add(-p.opt.Retention)).Delete(&participantRow{})
	return res.RowsAffected, res.Error
}
