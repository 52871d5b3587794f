package txn

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Handler is a participant's own change. Every method runs inside the local
// transaction that also writes the branch's barrier row, so the change and
// the protocol state commit or roll back together.
type Handler interface {
	// Prepare reserves what Commit will need; return *VoteNo to vote no.
	Prepare(ctx context.Context, tx *gorm.DB, txid string, payload []byte) error
	// Commit applies the change reserved by Prepare.
	Commit(ctx context.Context, tx *gorm.DB, txid string, payload []byte) error
	// Abort releases what Prepare reserved.
	Abort(ctx context.Context, tx *gorm.DB, txid string, payload []byte) error
}

// ParticipantOptions configure a participant. Zero durations take the
// defaults in brackets.
type ParticipantOptions struct {
	Name             string
	DB               *gorm.DB
	Handler          Handler
	ForUpdate        bool          // lock barrier rows with SELECT ... FOR UPDATE (MySQL; SQLite locks at BEGIN)
	ReadyTimeout     time.Duration // a yes-voter that hears nothing for this long terminates [10s]
	PrecommitTimeout time.Duration // a precommitted branch that hears nothing for this long terminates [10s]
	// TerminationTimeout bounds one termination run [3s]; the coordinator's
	// RestartGrace must be longer.
	TerminationTimeout time.Duration
	Retention          time.Duration // finished rows are kept this long [24h]
	Coordinator        StatusSource  // asked first by the termination protocol
	Peers              func(name string) Participant
	Logger             *slog.Logger
	Metrics            *Metrics
}

// ParticipantEngine runs the participant side of the protocol for one Handler.
type ParticipantEngine struct {
	opt ParticipantOptions
	log *slog.Logger
	now func() time.Time
}

// NewParticipant returns the engine; call Run to enforce its timeouts.
func NewParticipant(opt ParticipantOptions) *ParticipantEngine {
	if opt.ReadyTimeout <= 0 {
		opt.ReadyTimeout = 10 * time.Second
	}
	if opt.PrecommitTimeout <= 0 {
		opt.PrecommitTimeout = 10 * time.Second
	}
	if opt.TerminationTimeout <= 0 {
		opt.TerminationTimeout = defaultTerminationTimeout
	}
	if opt.Retention <= 0 {
		opt.Retention = 24 * time.Hour
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Metrics == nil {
		opt.Metrics = NewMetrics(nil)
	}
	return &ParticipantEngine{opt: opt, log: opt.Logger.With("participant", opt.Name), now: func() time.Time { return time.Now().UTC() }}
}

// Name is the participant's name in branches.
func (p *ParticipantEngine) Name() string { return p.opt.Name }

type participantRow struct {
	Participant string
	Txid        string
	State       string
	Payload     string
	Peers       string
	Deadline    time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (participantRow) TableName() string { return "txn_participant" }

// inTx runs fn with the branch's row (nil if none) locked.
func (p *ParticipantEngine) inTx(ctx context.Context, txid string, fn func(tx *gorm.DB, row *participantRow) error) error {
	return transaction(ctx, p.opt.DB, func(tx *gorm.DB) error {
		q := tx
		if p.opt.ForUpdate {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var row participantRow
		err := q.Where("participant = ? AND txid = ?", p.opt.Name, txid).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fn(tx, nil)
		}
		if err != nil {
			return err
		}
		return fn(tx, &row)
	})
}

func (p *ParticipantEngine) setState(tx *gorm.DB, row *participantRow, s State, deadline time.Time) error {
	return tx.Model(&participantRow{}).Where("participant = ? AND txid = ?", p.opt.Name, row.Txid).
		Updates(map[string]any{"state": string(s), "deadline": deadline, "updated_at": p.now()}).Error
}

// insertIgnore inserts row unless the branch exists; it reports whether it
// inserted. Inserting first (instead of locking a row that may not exist)
// takes a record lock, not a gap lock: concurrent first messages of
// different transactions cannot deadlock on InnoDB.
func (p *ParticipantEngine) insertIgnore(tx *gorm.DB, row participantRow) (bool, error) {
	verb := "INSERT OR IGNORE"
	if p.opt.ForUpdate {
		verb = "INSERT IGNORE"
	}
	res := tx.Exec(verb+` INTO txn_participant (participant, txid, state, payload, peers, deadline, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, row.Participant, row.Txid, row.State, row.Payload, row.Peers, row.Deadline, row.CreatedAt, row.UpdatedAt)
	return res.RowsAffected == 1, res.Error
}

// CanCommit votes. A branch already seen answers from its row: a late or
// repeated CanCommit after an abort never reserves anything.
func (p *ParticipantEngine) CanCommit(ctx context.Context, txid string, payload []byte, peers []string) (Vote, error) {
	if err := hit(p.opt.DB, p.opt.Name+".before-vote-persist"); err != nil {
		return Vote{}, err
	}
	var vote Vote
	err := transaction(ctx, p.opt.DB, func(tx *gorm.DB) error {
		now := p.now()
		peerJSON, _ := json.Marshal(peers)
		row := participantRow{Participant: p.opt.Name, Txid: txid, State: string(StateReady), Payload: string(payload),
			Peers: string(peerJSON), Deadline: now.Add(p.opt.ReadyTimeout), CreatedAt: now, UpdatedAt: now}
		inserted, err := p.insertIgnore(tx, row)
		if err != nil {
			return err
		}
		if !inserted {
			var cur participantRow
			if err := tx.Where("participant = ? AND txid = ?", p.opt.Name, txid).Take(&cur).Error; err != nil {
				return err
			}
			vote = Vote{Yes: State(cur.State) != StateAborted, Reason: "already " + cur.State}
			return nil
		}
		var no *VoteNo
		switch err := p.opt.Handler.Prepare(ctx, tx, txid, payload); {
		case errors.As(err, &no):
			vote = Vote{Yes: false, Reason: no.Reason}
			return p.setState(tx, &row, StateAborted, now)
		case err != nil:
			return err // rolls back the row too: no vote
		}
		vote = Vote{Yes: true}
		return nil
	})
	if err != nil {
		return Vote{}, err
	}
	if err := hit(p.opt.DB, p.opt.Name+".after-vote-persist"); err != nil {
		return Vote{}, err
	}
	return vote, nil
}

// PreCommit records that the decision is commit.
func (p *ParticipantEngine) PreCommit(ctx context.Context, txid string) error {
	if err := hit(p.opt.DB, p.opt.Name+".before-precommit-persist"); err != nil {
		return err
	}
	err := p.inTx(ctx, txid, func(tx *gorm.DB, row *participantRow) error {
		switch {
		case row == nil:
			return refused("precommit", StateNone)
		case State(row.State) == StateReady:
			return p.setState(tx, row, StatePrecommitted, p.now().Add(p.opt.PrecommitTimeout))
		case State(row.State) == StateAborted:
			return refused("precommit", StateAborted)
		}
		return nil // already precommitted or committed
	})
	if err != nil {
		return err
	}
	return hit(p.opt.DB, p.opt.Name+".after-precommit-persist")
}

// DoCommit applies the change.
func (p *ParticipantEngine) DoCommit(ctx context.Context, txid string) error {
	if err := hit(p.opt.DB, p.opt.Name+".before-commit-persist"); err != nil {
		return err
	}
	err := p.inTx(ctx, txid, func(tx *gorm.DB, row *participantRow) error {
		switch {
		case row == nil:
			return refused("commit", StateNone)
		case State(row.State) == StateReady, State(row.State) == StatePrecommitted:
			if err := p.opt.Handler.Commit(ctx, tx, txid, []byte(row.Payload)); err != nil {
				return err
			}
			return p.setState(tx, row, StateCommitted, row.Deadline)
		case State(row.State) == StateAborted:
			return refused("commit", StateAborted)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return hit(p.opt.DB, p.opt.Name+".after-commit-persist")
}

// Abort releases the reservation. An Abort for a branch never seen is
// remembered, so that a CanCommit arriving later votes no.
func (p *ParticipantEngine) Abort(ctx context.Context, txid string) error {
	if err := hit(p.opt.DB, p.opt.Name+".before-abort-persist"); err != nil {
		return err
	}
	err := p.inTx(ctx, txid, func(tx *gorm.DB, row *participantRow) error {
		switch {
		case row == nil:
			now := p.now()
			inserted, err := p.insertIgnore(tx, participantRow{Participant: p.opt.Name, Txid: txid, State: string(StateAborted),
				Peers: "[]", Deadline: now, CreatedAt: now, UpdatedAt: now})
			if err == nil && !inserted {
				return errors.New("txn: branch appeared concurrently; retry")
			}
			return err
		case State(row.State) == StateReady, State(row.State) == StatePrecommitted:
			if err := p.opt.Handler.Abort(ctx, tx, txid, []byte(row.Payload)); err != nil {
				return err
			}
			return p.setState(tx, row, StateAborted, row.Deadline)
		case State(row.State) == StateCommitted:
			return refused("abort", StateCommitted)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return hit(p.opt.DB, p.opt.Name+".after-abort-persist")
}

// State is the branch's durable state.
func (p *ParticipantEngine) State(ctx context.Context, txid string) (State, error) {
	var row participantRow
	err := p.opt.DB.WithContext(ctx).Where("participant = ? AND txid = ?", p.opt.Name, txid).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return StateNone, nil
	}
	return State(row.State), err
}

var _ Participant = (*ParticipantEngine)(nil)
