package txn

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"docplat/internal/testdb"
)

// flaky fails one kind of message until a moment has passed, as a
// participant whose database is busy (SQLITE_BUSY, lock waits) for longer
// than the coordinator's ack timeout.
type flaky struct {
	Participant
	op    string // "precommit" or "docommit"
	until time.Time
	calls atomic.Int32
}

var errBusy = errors.New("database is busy")

func (f *flaky) PreCommit(ctx context.Context, txid string) error {
	if f.op == "precommit" && time.Now().Before(f.until) {
		f.calls.Add(1)
		return errBusy
	}
	return f.Participant.PreCommit(ctx, txid)
}

func (f *flaky) DoCommit(ctx context.Context, txid string) error {
	if f.op == "docommit" && time.Now().Before(f.until) {
		f.calls.Add(1)
		return errBusy
	}
	return f.Participant.DoCommit(ctx, txid)
}

// TestCommittedAnswerWaitsForTheSynchronousParticipant: the coordinator
// answers commit only once the documents branch has applied DoCommit, even
// when that takes longer than the ack timeout; past CommitWait it answers
// ErrNotApplied (decided, not yet applied) or ErrInDoubt (not decided),
// never a bare success. Without the wait, Execute answered committed after
// the 300 ms ack timeout with the documents branch still precommitted (the
// upload answered 201 then 404 of issue 10).
func TestCommittedAnswerWaitsForTheSynchronousParticipant(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, participant, op string
		busy                  time.Duration
		wantErr               error
	}{
		{"docommit busy past the ack timeout", "documents", "docommit", time.Second, nil},
		{"docommit busy past the commit wait", "documents", "docommit", 3 * time.Second, ErrNotApplied},
		{"stats docommit busy: not awaited", "stats", "docommit", 3 * time.Second, nil},
		{"precommit busy past the commit wait", "stats", "precommit", 3 * time.Second, ErrInDoubt},
	}
	for _, backend := range testdb.Backends {
		t.Run(string(backend), func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					w := newWorld(t, backend)
					f := &flaky{Participant: w.participants[tc.participant], op: tc.op, until: time.Now().Add(tc.busy)}
					w.participants[tc.participant] = f
					out, err := w.upload(t, "tx", 100)
					docState, _ := w.docs.State(ctx, "tx")
					if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
						t.Fatalf("Execute: %+v, err %v; want err %v", out, err, tc.wantErr)
					}
					if !out.Committed {
						t.Fatalf("not committed: %+v", out)
					}
					if f.calls.Load() == 0 {
						t.Fatal("the participant was never busy: the case tests nothing")
					}
					if err == nil && docState != StateCommitted {
						t.Fatalf("answered committed with the documents branch %q", docState)
					}
					if err != nil && docState == StateCommitted {
						t.Fatalf("answered %v though the documents branch is committed", err)
					}
					// Recovery finishes what the answer left open.
					time.Sleep(time.Until(f.until))
					w.settle(t, 5*time.Second)
					if w.assertAtomic(t) != 1 {
						t.Fatal("the committed upload was not applied by recovery")
					}
				})
			}
		})
	}
}
