package txn

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"docplat/internal/testdb"
)

// Every step at which a party can crash.
var crashSteps = []string{
	"coord.before-log-started", "coord.after-log-started", "coord.before-cancommit", "coord.after-cancommit",
	"coord.before-log-precommit", "coord.after-log-precommit", "coord.before-precommit", "coord.after-precommit",
	"coord.before-log-committing", "coord.after-log-committing", "coord.before-docommit", "coord.after-docommit",
	"documents.before-vote-persist", "documents.after-vote-persist",
	"documents.before-precommit-persist", "documents.after-precommit-persist",
	"documents.before-commit-persist", "documents.after-commit-persist",
	"stats.before-vote-persist", "stats.after-vote-persist",
	"stats.before-precommit-persist", "stats.after-precommit-persist",
	"stats.before-commit-persist", "stats.after-commit-persist",
}

// abortSteps are crash points on the abort path (a no vote).
var abortSteps = []string{
	"coord.before-log-aborted", "coord.after-log-aborted", "coord.before-abort",
	"documents.before-abort-persist", "documents.after-abort-persist",
}

// TestEveryCrashPointLeavesTransactionsAtomic injects a crash at each step
// of the protocol (the coordinator's crash also takes its status down until
// it restarts, as a real process would), lets the participants' timeouts
// and the restarted coordinator's recovery run, and checks that every
// transaction ended atomically and within the timeouts.
func TestEveryCrashPointLeavesTransactionsAtomic(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(string(backend), func(t *testing.T) {
			steps := append(append([]string{}, crashSteps...), abortSteps...)
			for _, step := range steps {
				t.Run(step, func(t *testing.T) {
					t.Parallel()
					w := newWorld(t, backend, step)
					size := 100
					if contains(abortSteps, step) {
						size = quotaBytes + 1 // stats votes no: the abort path
					}
					out, err := w.upload(t, "tx-1", size)
					crashed := len(w.crashes.Fired()) > 0
					if err == nil && out.Committed {
						// Answered committed: the documents branch (the one
						// readers read) must be applied already.
						if s, _ := w.docs.State(context.Background(), "tx-1"); s != StateCommitted {
							t.Fatalf("answered committed while the documents branch is %q", s)
						}
					}
					if crashed && len(step) > 6 && step[:6] == "coord." {
						// The coordinator died: its status is gone until it restarts.
						w.status.down.Store(true)
						time.Sleep(200 * time.Millisecond) // participants' timeouts pass while it is down
						w.settle(t, 5*time.Second)
						w.restartCoordinator()
					} else if err != nil && !crashed {
						t.Fatalf("upload: %v", err)
					}
					took := w.settle(t, 5*time.Second)
					docs := w.assertAtomic(t)
					if !crashed {
						t.Fatalf("failpoint %s never fired", step)
					}
					t.Logf("crash at %s: %d document(s) after recovery, settled in %v", step, docs, took.Round(time.Millisecond))
					// The system keeps working after the crash.
					if out, err := w.upload(t, "tx-2", 10); err != nil || !out.Committed {
						t.Fatalf("next transaction: %+v, %v", out, err)
					}
					w.assertAtomic(t)
				})
			}
		})
	}
}

// TestQuotaRaceNeverOvershoots: concurrent uploads racing for the last
// bytes of the quota; exactly as many as fit commit.
func TestQuotaRaceNeverOvershoots(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(string(backend), func(t *testing.T) {
			w := newWorld(t, backend)
			var wg sync.WaitGroup
			var mu sync.Mutex
			committed := 0
			for i := range 25 {
				wg.Go(func() {
					out, err := w.upload(t, fmt.Sprintf("race-%d", i), 100)
					if err != nil {
						t.Errorf("upload %d: %v", i, err)
						return
					}
					if out.Committed {
						mu.Lock()
						committed++
						mu.Unlock()
					} else if v := out.Votes["stats"]; v.Yes || v.Reason != "quota" {
						t.Errorf("upload %d aborted for another reason: %+v", i, out.Votes)
					}
				})
			}
			wg.Wait()
			w.settle(t, 5*time.Second)
			if docs := w.assertAtomic(t); committed != quotaBytes/100 || docs != int64(committed) {
				t.Fatalf("committed %d uploads (%d documents), want exactly %d", committed, docs, quotaBytes/100)
			}
		})
	}
}

// TestBarrierHandlesDuplicateLateAndReorderedMessages covers the barrier
// cases: duplicates are idempotent, an Abort for an unseen transaction is
// remembered (null compensation), and a CanCommit arriving after that abort
// reserves nothing (no hanging reservation).
func TestBarrierHandlesDuplicateLateAndReorderedMessages(t *testing.T) {
	w := newWorld(t, testdb.SQLite)
	ctx := context.Background()
	payload := []byte(`{"bytes":300}`)
	reserved := func() (r int64) {
		w.statsDB.Raw("SELECT reserved FROM toy_usage WHERE id = 1").Scan(&r)
		return r
	}
	steps := []struct {
		name string
		do   func() error
		want State
		res  int64
	}{
		{"abort before anything (null compensation)", func() error { return w.stats.Abort(ctx, "late") }, StateAborted, 0},
		{"late CanCommit after the abort votes no", func() error {
			v, err := w.stats.CanCommit(ctx, "late", payload, nil)
			if err == nil && v.Yes {
				return fmt.Errorf("voted yes after abort")
			}
			return err
		}, StateAborted, 0},
		{"duplicate abort", func() error { return w.stats.Abort(ctx, "late") }, StateAborted, 0},
		{"PreCommit after abort is refused", func() error {
			if err := w.stats.PreCommit(ctx, "late"); err == nil {
				return fmt.Errorf("accepted")
			}
			return nil
		}, StateAborted, 0},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got, _ := w.stats.State(ctx, "late"); got != s.want || reserved() != s.res {
			t.Fatalf("%s: state %q reserved %d, want %q %d", s.name, got, reserved(), s.want, s.res)
		}
	}
	// A normal branch: duplicates of every message change nothing twice.
	for range 2 {
		if v, err := w.stats.CanCommit(ctx, "dup", payload, nil); err != nil || !v.Yes {
			t.Fatalf("CanCommit: %+v %v", v, err)
		}
	}
	if reserved() != 300 {
		t.Fatalf("duplicate CanCommit reserved twice: %d", reserved())
	}
	for _, op := range []func(context.Context, string) error{w.stats.PreCommit, w.stats.PreCommit, w.stats.DoCommit, w.stats.DoCommit} {
		if err := op(ctx, "dup"); err != nil {
			t.Fatal(err)
		}
	}
	var used int64
	w.statsDB.Raw("SELECT used FROM toy_usage WHERE id = 1").Scan(&used)
	if used != 300 || reserved() != 0 {
		t.Fatalf("after duplicate commits used=%d reserved=%d", used, reserved())
	}
	if err := w.stats.Abort(ctx, "dup"); err == nil {
		t.Fatal("Abort of a committed branch was accepted")
	}
	// Reordered: DoCommit before PreCommit (PreCommit lost) still commits once.
	if v, _ := w.stats.CanCommit(ctx, "reorder", payload, nil); !v.Yes {
		t.Fatal("no")
	}
	if err := w.stats.DoCommit(ctx, "reorder"); err != nil {
		t.Fatal(err)
	}
	if err := w.stats.PreCommit(ctx, "reorder"); err != nil {
		t.Fatalf("late PreCommit after commit: %v", err)
	}
	w.statsDB.Raw("SELECT used FROM toy_usage WHERE id = 1").Scan(&used)
	if used != 600 {
		t.Fatalf("used = %d after the reordered branch", used)
	}
}

// TestParticipantOverHTTP runs the stats participant behind the HTTP
// transport, as the separate stats process does, including termination
// queries back to the coordinator.
func TestParticipantOverHTTP(t *testing.T) {
	w := newWorld(t, testdb.SQLite)
	srv := httptest.NewServer(HTTPHandler(map[string]Participant{"stats": w.stats}, w.coord, "s3cret"))
	defer srv.Close()
	client := &HTTPClient{Base: srv.URL, Secret: "s3cret"}
	w.participants["stats"] = client.Participant("stats")
	w.restartCoordinator()
	if out, err := w.upload(t, "http-1", 100); err != nil || !out.Committed {
		t.Fatalf("over HTTP: %+v %v", out, err)
	}
	if out, _ := w.upload(t, "http-2", quotaBytes); out.Committed || out.Votes["stats"].Reason != "quota" {
		t.Fatalf("quota vote over HTTP: %+v", out)
	}
	if d, err := client.Status(context.Background(), "http-1"); err != nil || d != DecisionCommit {
		t.Fatalf("status over HTTP: %v %v", d, err)
	}
	bad := &HTTPClient{Base: srv.URL, Secret: "wrong"}
	if _, err := bad.Participant("stats").State(context.Background(), "http-1"); err == nil {
		t.Fatal("a wrong secret was accepted")
	}
	w.assertAtomic(t)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestFinishedRecordsAreCollectedAfterRetention: decided branches and
// finished log rows go once older than the retention; undecided ones stay.
func TestFinishedRecordsAreCollectedAfterRetention(t *testing.T) {
	w := newWorld(t, testdb.SQLite)
	if out, err := w.upload(t, "done", 10); err != nil || !out.Committed {
		t.Fatalf("%+v %v", out, err)
	}
	if _, err := w.stats.CanCommit(context.Background(), "open", []byte(`{"bytes":1}`), nil); err != nil {
		t.Fatal(err)
	}
	waitForState := func() bool { // the committed log row is written off the caller's path
		var n int64
		w.docsDB.Raw("SELECT COUNT(*) FROM txn_coordinator WHERE state = 'committed'").Scan(&n)
		return n == 1
	}
	for deadline := time.Now().Add(5 * time.Second); !waitForState(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the finished transaction was never logged as committed")
		}
	}
	for _, p := range []*ParticipantEngine{w.docs, w.stats} {
		p.opt.Retention = time.Nanosecond
		if n, err := p.Collect(context.Background()); err != nil || n != 1 {
			t.Fatalf("%s collected %d, %v; want the one finished branch", p.Name(), n, err)
		}
	}
	if s, _ := w.stats.State(context.Background(), "open"); s != StateReady {
		t.Fatalf("an undecided branch was collected (state %q)", s)
	}
	w.coord.opt.Retention = time.Nanosecond
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	w.coord.Run(ctx, 10*time.Millisecond)
	var left int64
	w.docsDB.Raw("SELECT COUNT(*) FROM txn_coordinator").Scan(&left)
	if left != 0 {
		t.Fatalf("%d finished coordinator rows left", left)
	}
}
