package docs

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"docplat/depfail"
	"docplat/errs"
	"docplat/txn"
)

// decidedCoordinator answers every transaction with one outcome.
type decidedCoordinator struct {
	out txn.Outcome
	err error
}

func (c decidedCoordinator) Execute(context.Context, string, []txn.Branch) (txn.Outcome, error) {
	return c.out, c.err
}

// TestTransactionAnswersKeepTheirCause: each outcome of the three-phase
// commit becomes the domain's answer (its code decides the client's
// status) and the coordinator's error stays visible to errors.Is/As.
func TestTransactionAnswersKeepTheirCause(t *testing.T) {
	unreachable := depfail.Wrap("the stats service", syscall.ECONNREFUSED)
	cases := []struct {
		name  string
		coord decidedCoordinator
		want  error
		code  errs.Code
		cause error // nil: the answer has none
	}{
		{"committed", decidedCoordinator{out: txn.Outcome{Committed: true}}, nil, "", nil},
		{"committed, not applied", decidedCoordinator{out: txn.Outcome{Committed: true}, err: txn.ErrNotApplied}, ErrNotYetReadable, errs.Unavailable, txn.ErrNotApplied},
		{"committed, then lost", decidedCoordinator{out: txn.Outcome{Committed: true}, err: txn.ErrInDoubt}, ErrInDoubt, errs.Unavailable, txn.ErrInDoubt},
		{"coordinator failed", decidedCoordinator{err: unreachable}, ErrUnavailable, errs.Unavailable, syscall.ECONNREFUSED},
		{"stats voted quota", decidedCoordinator{out: txn.Outcome{Votes: map[string]txn.Vote{ParticipantStats: {Reason: txn.ReasonQuota}}}}, ErrQuota, errs.QuotaExceeded, nil},
		{"documents voted conflict", decidedCoordinator{out: txn.Outcome{Votes: map[string]txn.Vote{ParticipantDocuments: {Reason: txn.ReasonConflict}}}}, ErrPrecondition, errs.PreconditionFailed, nil},
		{"documents voted not found", decidedCoordinator{out: txn.Outcome{Votes: map[string]txn.Vote{ParticipantDocuments: {Reason: txn.ReasonNotFound}}}}, ErrNotFound, errs.NotFound, nil},
		{"aborted for no known reason", decidedCoordinator{out: txn.Outcome{Votes: map[string]txn.Vote{ParticipantStats: {Reason: "disk full"}}}}, ErrUnavailable, errs.Unavailable, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo := WithThreePhaseCommit(nil, tc.coord, 0)
			err := repo.Create(context.Background(), Document{ID: "d1"}, NewContent{Version: Version{Version: 1, Size: 3}})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Create = %v, want %v", err, tc.want)
			}
			if got := errs.CodeOf(err); got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
			if tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Errorf("the cause %v is lost in %v", tc.cause, err)
			}
			if tc.cause == syscall.ECONNREFUSED && depfail.Dependency(err) != "the stats service" {
				t.Errorf("errors.As cannot reach the depfail error in %v", err)
			}
			if MayHaveCommitted(err) != (tc.want == ErrNotYetReadable || tc.want == ErrInDoubt) {
				t.Errorf("MayHaveCommitted(%v) = %v", err, MayHaveCommitted(err))
			}
		})
	}
}
