package txn

import (
	"context"
	"testing"
	"time"

	"docplat/internal/testdb"
)

// The scenarios below are the counterexamples spin found against the
// protocol as first written (model/README.md), replayed on the real engines
// with several crashes each. Every one ends in agreement.

func (w *world) engine(name string) *ParticipantEngine {
	if name == "documents" {
		return w.docs
	}
	return w.stats
}

// expire lets every deadline pass (the harness's timeouts are 150 ms).
func expire() { time.Sleep(200 * time.Millisecond) }

// terminate runs one participant's timeout handling, unless it is down.
func (w *world) terminate(name string) {
	if !w.down[name].Load() {
		w.engine(name).TerminateExpired(context.Background())
	}
}

func (w *world) wantStates(t *testing.T, txid string, want map[string]State) {
	t.Helper()
	for name, s := range want {
		got, err := w.engine(name).State(context.Background(), txid)
		if err != nil || got != s {
			t.Fatalf("%s is %q (%v), want %q", name, got, err, s)
		}
	}
}

func (w *world) coordinatorState(txid string) (state string) {
	w.docsDB.Raw("SELECT state FROM txn_coordinator WHERE txid = ?", txid).Scan(&state)
	return state
}

// recoverAfterGrace restarts the coordinator and runs its recovery once the
// restart grace has passed.
func (w *world) recoverAfterGrace(t *testing.T) {
	t.Helper()
	w.restartCoordinator()
	if n := w.coord.Recover(context.Background(), 0); n != 0 {
		t.Fatalf("recovery touched %d transaction(s) inside the restart grace", n)
	}
	time.Sleep(w.coord.opt.RestartGrace + 20*time.Millisecond)
	w.coord.Recover(context.Background(), 0)
}

func TestTerminationUnderMultipleCrashes(t *testing.T) {
	cases := []struct {
		name string
		arm  []string
		run  func(t *testing.T, w *world)
		docs int64
	}{{
		// Counterexample 1: the coordinator logged precommit and died; the
		// participants timed out. As written, the restarted coordinator
		// answered commit while a participant had aborted.
		name: "coordinator dies after logging precommit; participants terminate; it restarts",
		arm:  []string{"coord.before-precommit"},
		run: func(t *testing.T, w *world) {
			expire()
			w.terminate("stats") // documents comes first and is undecided: stats waits for it
			w.wantStates(t, "tx", map[string]State{"stats": StateReady})
			w.terminate("documents") // the backup: every row ready -> abort, peers first
			w.wantStates(t, "tx", map[string]State{"documents": StateAborted, "stats": StateAborted})
			w.restartCoordinator()
			if d, _ := w.coord.Status(context.Background(), "tx"); d != DecisionPending {
				t.Fatalf("restarted coordinator answers %q for a precommit record, want pending", d)
			}
			w.recoverAfterGrace(t)
			if s := w.coordinatorState("tx"); s != logAborted {
				t.Fatalf("coordinator logged %q, want aborted", s)
			}
		},
	}, {
		// Counterexample 2: the backup committed on its own and crashed
		// while its peer was still ready. With the fix the backup
		// precommits its peer before committing itself.
		name: "backup commits, crashes before telling its peer; the peer takes over",
		arm:  []string{"stats.before-precommit-persist", "coord.after-precommit", "documents.after-commit-persist"},
		run: func(t *testing.T, w *world) {
			w.wantStates(t, "tx", map[string]State{"documents": StatePrecommitted, "stats": StateReady})
			expire()
			w.terminate("documents") // backup: a precommitted row -> commit; crashes after its own commit
			w.down["documents"].Store(true)
			w.wantStates(t, "tx", map[string]State{"documents": StateCommitted, "stats": StatePrecommitted})
			expire()
			w.terminate("stats") // next in line: documents does not answer; own row precommitted -> commit
			w.wantStates(t, "tx", map[string]State{"stats": StateCommitted})
			w.down["documents"].Store(false)
			w.recoverAfterGrace(t)
			w.settle(t, 5*time.Second)
			if s := w.coordinatorState("tx"); s != logCommitted {
				t.Fatalf("coordinator logged %q, want committed", s)
			}
		},
		docs: 1,
	}, {
		// Counterexample 3: a participant aborted and crashed; the restarted
		// coordinator resent PreCommit blindly and committed the other.
		name: "backup aborts its peer, crashes before its own abort; coordinator restarts",
		arm:  []string{"coord.before-precommit", "documents.before-abort-persist"},
		run: func(t *testing.T, w *world) {
			expire()
			w.terminate("documents")
			w.down["documents"].Store(true)
			w.wantStates(t, "tx", map[string]State{"documents": StateReady, "stats": StateAborted})
			w.recoverAfterGrace(t) // reads stats' aborted row: abort, never PreCommit
			w.wantStates(t, "tx", map[string]State{"stats": StateAborted})
			if s := w.coordinatorState("tx"); s != logAborting {
				t.Fatalf("coordinator logged %q, want aborting (documents still down)", s)
			}
			w.down["documents"].Store(false)
			expire()
			w.terminate("documents") // asks the coordinator: abort
			w.wantStates(t, "tx", map[string]State{"documents": StateAborted})
		},
	}, {
		// Total failure: the coordinator restarts while every participant
		// is down. Any of them may have decided either way, so it waits.
		name: "coordinator restarts with every participant down: it waits",
		arm:  []string{"coord.before-precommit"},
		run: func(t *testing.T, w *world) {
			w.down["documents"].Store(true)
			w.down["stats"].Store(true)
			w.recoverAfterGrace(t)
			if s := w.coordinatorState("tx"); s != logPrecommit {
				t.Fatalf("coordinator logged %q with nobody answering, want it to wait in precommit", s)
			}
			w.down["documents"].Store(false)
			w.down["stats"].Store(false)
			w.coord.Recover(context.Background(), 0) // every row ready: abort
			w.wantStates(t, "tx", map[string]State{"documents": StateAborted, "stats": StateAborted})
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, testdb.SQLite, tc.arm...)
			if _, err := w.upload(t, "tx", 100); err == nil {
				t.Fatal("the coordinator did not crash")
			}
			w.status.down.Store(true)
			tc.run(t, w)
			if fired := w.crashes.Fired(); len(fired) != len(tc.arm) {
				t.Fatalf("fired %v, armed %v", fired, tc.arm)
			}
			w.restartCoordinator()
			w.settle(t, 5*time.Second)
			if docs := w.assertAtomic(t); docs != tc.docs {
				t.Fatalf("%d documents, want %d", docs, tc.docs)
			}
		})
	}
}
