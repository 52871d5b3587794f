package txn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
)

// Branch is one participant's part of a transaction.
type Branch struct {
	Participant string `json:"participant"`
	Payload     []byte `json:"payload"`
}

// Outcome is what Execute decided.
type Outcome struct {
	Committed bool
	// Votes as received (missing: no answer in time).
	Votes map[string]Vote
	// Applied lists the participants that acknowledged DoCommit; the others
	// finish through recovery or their own timeout. With a nil error, every
	// synchronous participant (CoordinatorOptions.Synchronous) is in it.
	Applied map[string]bool
}

var (
	// ErrNotApplied: the decision is commit (final, it will be applied),
	// but a synchronous participant did not apply it within CommitWait;
	// recovery goes on re-driving DoCommit. The caller must not say the
	// change failed, nor that it is readable yet.
	ErrNotApplied = errors.New("txn: committed, but not yet applied by every synchronous participant")
	// ErrInDoubt: commit was intended but not every participant
	// acknowledged PreCommit within CommitWait, so the outcome is not final;
	// recovery decides it (normally commit).
	ErrInDoubt = errors.New("txn: the outcome is not decided yet")
)

// Coordinator log states. Final: committed, aborted, heuristic.
const (
	logStarted    = "started"
	logPrecommit  = "precommit"
	logCommitting = "committing"
	logCommitted  = "committed"
	logAborting   = "aborting"
	logAborted    = "aborted"
	logHeuristic  = "heuristic"
)

// CoordinatorOptions configure a coordinator. Zero durations take the
// defaults in brackets.
type CoordinatorOptions struct {
	DB           *gorm.DB
	Participants map[string]Participant
	VoteTimeout  time.Duration // votes must all arrive within this [5s]
	AckTimeout   time.Duration // PreCommit/DoCommit/Abort are retried for this long per attempt [3s]
	RecoverAfter time.Duration // an unfinished transaction this old is resumed by Run [5s]
	// RestartGrace: after a restart, a transaction found in `precommit` is
	// left alone this long, so that participants' termination runs begun
	// while the coordinator was down are over before it reads their rows
	// (PROTOCOL.md, coordinator rule 4). It must exceed the participants'
	// TerminationTimeout [2 x the default TerminationTimeout = 6s].
	RestartGrace time.Duration
	Retention    time.Duration // finished log rows are kept this long [24h]
	// Synchronous names the participants whose DoCommit Execute waits for
	// before it answers commit: the ones callers read from right after the
	// answer (docplat: the documents participant). Their PreCommit and
	// DoCommit are retried past AckTimeout, up to CommitWait.
	Synchronous []string
	// CommitWait bounds how long Execute drives a commit for the
	// synchronous participants [20s]. It must stay well under the cache's
	// tombstone life minus its fill lease (docs/cached.go's fence).
	CommitWait time.Duration
	Logger     *slog.Logger
	Metrics    *Metrics
}

// Coordinator drives transactions and answers the termination protocol.
type Coordinator struct {
	opt CoordinatorOptions
	log *slog.Logger
	now func() time.Time
	// inflight marks transactions this process is driving right now, so that
	// recovery does not race the request that owns them.
	inflight sync.Map
	// decidedHere holds the transactions whose `precommit` this process
	// logged: for them no participant can have terminated on its own
	// (they would have been answered `pending`), so recovery may resend
	// PreCommit blindly. Any other `precommit` row comes from before a
	// restart and is decided from the participants' rows.
	decidedHere sync.Map
	started     time.Time
}

// NewCoordinator returns a coordinator; call Run to recover unfinished transactions.
func NewCoordinator(opt CoordinatorOptions) *Coordinator {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opt.VoteTimeout, 5*time.Second)
	def(&opt.AckTimeout, 3*time.Second)
	def(&opt.RecoverAfter, 5*time.Second)
	def(&opt.RestartGrace, 2*defaultTerminationTimeout)
	def(&opt.Retention, 24*time.Hour)
	def(&opt.CommitWait, 20*time.Second)
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Metrics == nil {
		opt.Metrics = NewMetrics(nil)
	}
	now := func() time.Time { return time.Now().UTC() }
	return &Coordinator{opt: opt, log: opt.Logger.With("component", "txn-coordinator"), now: now, started: now()}
}

type coordinatorRow struct {
	Txid      string
	State     string
	Branches  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (coordinatorRow) TableName() string { return "txn_coordinator" }

func (c *Coordinator) logState(ctx context.Context, txid, state string) error {
	return c.opt.DB.WithContext(ctx).Model(&coordinatorRow{}).Where("txid = ?", txid).
		Updates(map[string]any{"state": state, "updated_at": c.now()}).Error
}

// step hits the failpoint named step; a crash stops the coordinator there.
func (c *Coordinator) step(name string) error { return hit(c.opt.DB, "coord."+name) }

// Execute runs one transaction to its decision. The caller's cancellation
// does not interrupt the protocol (a half-run transaction is worse); the
// timeouts bound it.
func (c *Coordinator) Execute(ctx context.Context, txid string, branches []Branch) (Outcome, error) {
	ctx = context.WithoutCancel(ctx)
	for _, b := range branches {
		if c.opt.Participants[b.Participant] == nil {
			return Outcome{}, fmt.Errorf("%w: %s", ErrUnknownParticipant, b.Participant)
		}
	}
	c.inflight.Store(txid, true)
	defer c.inflight.Delete(txid)
	start := time.Now()
	// The log keeps who takes part, not the payloads: recovery never
	// resends CanCommit (an unvoted transaction is aborted), and a payload
	// can be large (a document's extracted text).
	names := make([]Branch, len(branches))
	for i, b := range branches {
		names[i] = Branch{Participant: b.Participant}
	}
	raw, err := json.Marshal(names)
	if err != nil {
		return Outcome{}, err
	}
	if err := c.step("before-log-started"); err != nil {
		return Outcome{}, err
	}
	// The started record is written while the votes are collected: until it
	// exists, a participant asking about the transaction is told abort,
	// which is what recovery would decide anyway, so the record only lets
	// recovery abort an orphaned transaction sooner (PROTOCOL.md).
	logged := make(chan error, 1)
	go func() {
		now := c.now()
		err := c.opt.DB.WithContext(ctx).Create(&coordinatorRow{Txid: txid, State: logStarted, Branches: string(raw), CreatedAt: now, UpdatedAt: now}).Error
		if err == nil {
			err = c.step("after-log-started")
		}
		logged <- err
	}()
	if err := c.step("before-cancommit"); err != nil {
		<-logged
		return Outcome{}, err
	}
	votes := c.collectVotes(ctx, txid, branches)
	if err := <-logged; err != nil {
		if errors.Is(err, ErrCrash) {
			return Outcome{}, err
		}
		// Without its record the transaction cannot be decided commit.
		return Outcome{Votes: votes}, errors.Join(err, c.abort(ctx, txid, branches))
	}
	c.opt.Metrics.phase.WithLabelValues("cancommit").Observe(time.Since(start).Seconds())
	if err := c.step("after-cancommit"); err != nil {
		return Outcome{}, err
	}
	out := Outcome{Votes: votes}
	allYes := len(votes) == len(branches)
	for _, v := range votes {
		allYes = allYes && v.Yes
	}
	if !allYes {
		err := c.abort(ctx, txid, branches)
		c.opt.Metrics.outcomes.WithLabelValues("aborted").Inc()
		return out, err
	}
	if err := c.step("before-log-precommit"); err != nil {
		return out, err
	}
	if err := c.logState(ctx, txid, logPrecommit); err != nil {
		// Not logged: the decision is not made. Abort is still safe.
		return out, errors.Join(err, c.abort(ctx, txid, branches))
	}
	c.decidedHere.Store(txid, true)
	// Commit is now the intended outcome; it becomes final when every
	// participant has acknowledged PreCommit and `committing` is logged.
	out.Committed = true
	if err := c.step("after-log-precommit"); err != nil {
		return out, err
	}
	applied, committed, err := c.finishCommit(ctx, txid, branches)
	if committed && err == nil {
		applied, committed, err = c.awaitSynchronous(ctx, txid, branches, applied, start)
	}
	out.Applied, out.Committed = applied, committed
	outcome := map[bool]string{true: "committed", false: "aborted"}[committed]
	c.opt.Metrics.outcomes.WithLabelValues(outcome).Inc()
	c.opt.Metrics.phase.WithLabelValues("total").Observe(time.Since(start).Seconds())
	return out, err
}

// synchronousDone reports whether every synchronous participant of the
// transaction has applied DoCommit.
func (c *Coordinator) synchronousDone(branches []Branch, applied map[string]bool) bool {
	for _, b := range branches {
		if slices.Contains(c.opt.Synchronous, b.Participant) && !applied[b.Participant] {
			return false
		}
	}
	return true
}

// awaitSynchronous keeps driving a commit until every synchronous
// participant has applied it, so that the caller, once answered, reads what
// it wrote: a DoCommit that failed for longer than AckTimeout (a busy or
// overloaded database) is retried here rather than left to recovery. The
// other participants' acknowledgements are not awaited. Past CommitWait it
// answers the truth: ErrInDoubt while `committing` is not logged,
// ErrNotApplied after.
func (c *Coordinator) awaitSynchronous(ctx context.Context, txid string, branches []Branch, applied map[string]bool, start time.Time) (map[string]bool, bool, error) {
	deadline := start.Add(c.opt.CommitWait)
	waited := false
	for delay := 20 * time.Millisecond; !c.synchronousDone(branches, applied); delay = min(2*delay, time.Second) {
		waited = true
		if time.Now().Add(delay).After(deadline) {
			c.opt.Metrics.syncWaits.WithLabelValues("gave_up").Inc()
			if applied == nil {
				c.log.Warn("commit not decided within the commit wait; recovery will finish it", "txid", txid, "wait", c.opt.CommitWait)
				return nil, true, ErrInDoubt
			}
			c.log.Warn("commit not applied by a synchronous participant within the commit wait; recovery will apply it", "txid", txid, "wait", c.opt.CommitWait)
			return applied, true, ErrNotApplied
		}
		time.Sleep(delay)
		var (
			more      map[string]bool
			committed bool
			err       error
		)
		if applied == nil {
			// `committing` is not logged yet: PreCommit goes on (idempotent
			// for those who acknowledged it).
			more, committed, err = c.finishCommit(ctx, txid, branches)
		} else {
			more, committed, err = c.doCommit(ctx, txid, branches)
		}
		if err != nil || !committed {
			return more, committed, err
		}
		if more != nil {
			if applied == nil {
				applied = map[string]bool{}
			}
			maps.Copy(applied, more)
		}
	}
	if waited {
		c.opt.Metrics.syncWaits.WithLabelValues("waited").Inc()
	}
	return applied, true, nil
}

func (c *Coordinator) collectVotes(ctx context.Context, txid string, branches []Branch) map[string]Vote {
	vctx, cancel := context.WithTimeout(ctx, c.opt.VoteTimeout)
	defer cancel()
	peers := make([]string, len(branches))
	for i, b := range branches {
		peers[i] = b.Participant
	}
	var mu sync.Mutex
	votes := map[string]Vote{}
	var wg sync.WaitGroup
	for _, b := range branches {
		wg.Go(func() {
			v, err := c.opt.Participants[b.Participant].CanCommit(vctx, txid, b.Payload, peers)
			if err != nil {
				c.log.Warn("no vote", "txid", txid, "participant", b.Participant, "err", err)
				return
			}
			mu.Lock()
			votes[b.Participant] = v
			mu.Unlock()
		})
	}
	wg.Wait()
	return votes
}

// each sends op to every participant, retrying each until it succeeds, is
// refused, or the ack timeout passes. It returns who succeeded and who refused.
func (c *Coordinator) each(ctx context.Context, branches []Branch, op func(ctx context.Context, p Participant) error) (ok, refusedBy map[string]bool) {
	ok, refusedBy = map[string]bool{}, map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, b := range branches {
		wg.Go(func() {
			deadline := time.Now().Add(c.opt.AckTimeout)
			for delay := 10 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
				actx, cancel := context.WithTimeout(ctx, c.opt.AckTimeout)
				err := op(actx, c.opt.Participants[b.Participant])
				cancel()
				if err == nil || errors.Is(err, ErrRefused) {
					mu.Lock()
					if err == nil {
						ok[b.Participant] = true
					} else {
						refusedBy[b.Participant] = true
					}
					mu.Unlock()
					return
				}
				if errors.Is(err, ErrCrash) || time.Now().Add(delay).After(deadline) {
					return
				}
				time.Sleep(delay)
			}
		})
	}
	wg.Wait()
	return ok, refusedBy
}

// finishCommit sends PreCommit to every participant and, once all have
// acknowledged, logs `committing` (the point of no return: from here the
// status answer is commit) and sends DoCommit. A participant that refuses
// PreCommit has aborted, which it can only have done while nobody could
// have committed (no `committing` yet): the outcome is then abort. A
// missing acknowledgement leaves the transaction in `precommit` for
// recovery to resend: no participant commits before all are precommitted,
// so a participant that comes back in `precommitted` can always be
// brought to commit by its peers.
func (c *Coordinator) finishCommit(ctx context.Context, txid string, branches []Branch) (map[string]bool, bool, error) {
	if err := c.step("before-precommit"); err != nil {
		return nil, true, err
	}
	acked, refusedBy := c.each(ctx, branches, func(ctx context.Context, p Participant) error { return p.PreCommit(ctx, txid) })
	if len(refusedBy) > 0 {
		c.log.Warn("a participant aborted before hearing PreCommit: aborting", "txid", txid, "refused_by", keys(refusedBy))
		c.decidedHere.Delete(txid)
		return nil, false, c.abort(ctx, txid, branches)
	}
	if err := c.step("after-precommit"); err != nil {
		return nil, true, err
	}
	if len(acked) < len(branches) {
		// Some did not answer: recovery resends PreCommit to them.
		return nil, true, nil
	}
	return c.commit(ctx, txid, branches)
}

// commit logs `committing` and sends DoCommit to every participant.
func (c *Coordinator) commit(ctx context.Context, txid string, branches []Branch) (map[string]bool, bool, error) {
	if err := c.step("before-log-committing"); err != nil {
		return nil, true, err
	}
	if err := c.logState(ctx, txid, logCommitting); err != nil {
		return nil, true, err // still `precommit`: recovery goes on from there
	}
	c.decidedHere.Delete(txid)
	if err := c.step("after-log-committing"); err != nil {
		return nil, true, err
	}
	return c.doCommit(ctx, txid, branches)
}

// doCommit sends DoCommit; the decision is already final.
func (c *Coordinator) doCommit(ctx context.Context, txid string, branches []Branch) (map[string]bool, bool, error) {
	if err := c.step("before-docommit"); err != nil {
		return nil, true, err
	}
	applied, refusedBy := c.each(ctx, branches, func(ctx context.Context, p Participant) error { return p.DoCommit(ctx, txid) })
	if len(refusedBy) > 0 {
		c.heuristic(ctx, txid, "DoCommit refused", refusedBy)
		return applied, true, nil
	}
	if err := c.step("after-docommit"); err != nil {
		return applied, true, err
	}
	if len(applied) == len(branches) {
		// Off the caller's path: until it is written, recovery re-drives
		// DoCommit, which every participant answers idempotently.
		go func() {
			if err := c.logState(context.WithoutCancel(ctx), txid, logCommitted); err != nil {
				c.log.Warn("logging a finished transaction (recovery will finish it)", "txid", txid, "err", err)
			}
		}()
	}
	return applied, true, nil
}

func (c *Coordinator) abort(ctx context.Context, txid string, branches []Branch) error {
	if err := c.step("before-log-aborted"); err != nil {
		return err
	}
	if err := c.logState(ctx, txid, logAborting); err != nil {
		return err
	}
	if err := c.step("after-log-aborted"); err != nil {
		return err
	}
	if err := c.step("before-abort"); err != nil {
		return err
	}
	acked, refusedBy := c.each(ctx, branches, func(ctx context.Context, p Participant) error { return p.Abort(ctx, txid) })
	if len(refusedBy) > 0 {
		c.heuristic(ctx, txid, "Abort refused (already committed)", refusedBy)
		return nil
	}
	if len(acked) == len(branches) {
		return c.logState(ctx, txid, logAborted)
	}
	return nil
}

// heuristic records a mixed outcome: only a network partition can cause it
// (PROTOCOL.md, "What 3PC does not solve").
func (c *Coordinator) heuristic(ctx context.Context, txid, what string, by map[string]bool) {
	c.opt.Metrics.heuristic.Inc()
	c.log.Error("HEURISTIC OUTCOME: participants decided differently; reconcile (docplat reconcile)",
		"txid", txid, "what", what, "participants", keys(by))
	_ = c.logState(ctx, txid, logHeuristic)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Status answers the termination protocol.
func (c *Coordinator) Status(ctx context.Context, txid string) (Decision, error) {
	var row coordinatorRow
	err := c.opt.DB.WithContext(ctx).Where("txid = ?", txid).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DecisionAbort, nil
	}
	if err != nil {
		return "", err
	}
	switch row.State {
	case logStarted, logPrecommit:
		// `precommit` is not yet final: a participant that timed out while
		// the coordinator was down may have aborted, and recovery decides
		// from the rows (PROTOCOL.md, rule 4). Answering commit here is the
		// first counterexample in model/README.md.
		return DecisionPending, nil
	case logCommitting, logCommitted, logHeuristic:
		return DecisionCommit, nil
	}
	return DecisionAbort, nil
}

var _ StatusSource = (*Coordinator)(nil)
