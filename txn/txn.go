// Package txn is docplat's three-phase commit: a coordinator with a durable
// log, participants that keep a barrier row per transaction, timeouts on
// both sides with a termination protocol, and transports (in-process and
// HTTP). It is generic: participants bring a Handler that reserves, commits
// and releases their own change inside the local transaction txn opens.
// The protocol is written down in PROTOCOL.md and model-checked in model/.
package txn

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"docplat/internal/failpoint"
)

// State of a participant's branch.
type State string

const (
	StateNone         State = ""             // never seen
	StateReady        State = "ready"        // voted yes, uncertain
	StatePrecommitted State = "precommitted" // the decision is known to be commit, not yet applied
	StateCommitted    State = "committed"
	StateAborted      State = "aborted"
)

// Decision is the coordinator's answer to a status query.
type Decision string

const (
	DecisionCommit  Decision = "commit"
	DecisionAbort   Decision = "abort"
	DecisionPending Decision = "pending"
)

// Vote is a participant's answer to CanCommit.
type Vote struct {
	Yes    bool   `json:"yes"`
	Reason string `json:"reason,omitempty"` // why not, for the caller (e.g. ReasonQuota)
}

// Participant is one branch as the coordinator and the peers reach it.
type Participant interface {
	CanCommit(ctx context.Context, txid string, payload []byte, peers []string) (Vote, error)
	PreCommit(ctx context.Context, txid string) error
	DoCommit(ctx context.Context, txid string) error
	Abort(ctx context.Context, txid string) error
	// State is the branch's durable state (for peers' termination).
	State(ctx context.Context, txid string) (State, error)
}

// StatusSource answers the termination protocol's question to the coordinator.
type StatusSource interface {
	Status(ctx context.Context, txid string) (Decision, error)
}

var (
	// ErrRefused: the message contradicts the branch's state (e.g. DoCommit
	// on an aborted branch). Retrying does not help.
	ErrRefused = errors.New("txn: refused in this state")
	// ErrCrash is what tests inject at a step to simulate a crash there.
	ErrCrash = errors.New("txn: crash injected")
	// ErrUnknownParticipant: a branch names a participant the coordinator does not know.
	ErrUnknownParticipant = errors.New("txn: unknown participant")
)

// Reasons a participant votes no with (Vote.Reason, VoteNo.Reason), named
// once for the participant that gives one and the caller that reads it
// (the services share no other code). They travel between processes:
// never change a value.
const (
	ReasonQuota    = "quota"     // stats: the department's quota would be exceeded
	ReasonConflict = "conflict"  // documents: the document changed since the writer read it
	ReasonNotFound = "not_found" // documents: the document was deleted meanwhile
)

// VoteNo is returned by a Handler's Prepare to vote no with a reason.
type VoteNo struct{ Reason string }

func (v *VoteNo) Error() string { return "txn: vote no: " + v.Reason }

// refused wraps ErrRefused with the state that refused.
func refused(op string, s State) error { return fmt.Errorf("%w: %s in state %q", ErrRefused, op, s) }

// hit is the failpoint at step (failpoint.TxnStep) of the process whose
// database is db: a failure there is a crash at that step.
func hit(db *gorm.DB, step string) error {
	return failpoint.Inject(failpoint.TxnStep(step), db)
}
