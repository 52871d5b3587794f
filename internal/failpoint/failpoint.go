// Package failpoint injects failures at named points of production code,
// for tests only (in the manner of etcd's gofail). Production code calls
// Inject at a point in the list below; only a test enables a point, for its
// own duration. With nothing enabled, Inject costs one atomic load.
//
// Tests run in parallel, each with its own instances, so an injection
// carries a scope: the instance that reached the point (see each name). An
// action acts only on the scope its test built and passes the others by.
package failpoint

import (
	"slices"
	"sync"
	"sync/atomic"
)

// The failpoints: every name production code injects at.
const (
	// CacheBeforeL2Fill: a cache is about to write a loaded entry to L2
	// (scope: the *cache.Cache). An action may block to open a race.
	CacheBeforeL2Fill = "cache/before-l2-fill"
	// CacheBeforeL1Fill: the same before the entry is written to L1.
	CacheBeforeL1Fill = "cache/before-l1-fill"
	// CacheUnfenced: when its action fails, a cache writes without the
	// version checks (scope: the *cache.Cache), to prove them necessary.
	CacheUnfenced = "cache/unfenced"
	// DocsAfterPublish: the documents participant published a content's
	// blob and its transaction has not committed (scope: the *sqlstore.DB);
	// a failure there is a crash after publication.
	DocsAfterPublish = "sqlstore/after-publish"
	// DocsBeforeEnqueue: a content change committed and its text
	// extraction job is about to be enqueued (scope: the *docs.Service); a
	// failure there is the process dying between the commit and Kafka.
	DocsBeforeEnqueue = "docs/before-enqueue"
	// AuditAfterRecord: an audit entry was written in the transaction of
	// its change, which has not committed (scope: the audit.Entry); a
	// failure there fails the change's transaction.
	AuditAfterRecord = "audit/after-record"
	// ResumableBeforeAssembly: every byte of a resumable upload is in S3
	// and its multipart upload is about to be completed (scope: the
	// bucket's name); an action may stop S3 there.
	ResumableBeforeAssembly = "resumable/before-assembly"
)

// TxnStep is the failpoint at a three-phase-commit step, "coord.<step>"
// or "<participant>.<step>" as txn names them (scope: the *gorm.DB of the
// coordinator's or participant's database). A failure there is a crash at
// that step: nothing after it happens.
func TxnStep(step string) string { return "txn/" + step }

// Action is what an enabled failpoint does when reached in scope: a
// non-nil error is the failure to inject; it may also block or act.
type Action func(scope any) error

type entry struct{ action Action }

var (
	enabled atomic.Int32 // entries in actions: the fast path
	mu      sync.RWMutex
	actions = map[string][]*entry{}
)

// Inject runs the actions enabled at name for scope and returns the first
// failure. Production code returns that failure as if the step failed.
func Inject(name string, scope any) error {
	if enabled.Load() == 0 {
		return nil
	}
	mu.RLock()
	list := slices.Clone(actions[name])
	mu.RUnlock()
	for _, e := range list {
		if err := e.action(scope); err != nil {
			return err
		}
	}
	return nil
}

// Cleaner is the part of testing.TB that Enable needs.
type Cleaner interface{ Cleanup(func()) }

// Enable runs action whenever name is reached, until t ends.
func Enable(t Cleaner, name string, action Action) {
	e := &entry{action: action}
	mu.Lock()
	actions[name] = append(actions[name], e)
	mu.Unlock()
	enabled.Add(1)
	t.Cleanup(func() {
		mu.Lock()
		actions[name] = slices.DeleteFunc(actions[name], func(x *entry) bool { return x == e })
		if len(actions[name]) == 0 {
			delete(actions, name)
		}
		mu.Unlock()
		enabled.Add(-1)
	})
}

// Crashes fails named points once each (a crash happens once; the
// restarted process goes on) and records which fired: the crash matrices'
// tool. Safe for concurrent use.
type Crashes struct {
	mu    sync.Mutex
	armed map[string]bool
	fired []string
}

// Crash enables names until t ends: the first time each is reached in a
// scope that mine accepts, it fails with err.
func Crash(t Cleaner, err error, mine func(scope any) bool, names ...string) *Crashes {
	c := &Crashes{armed: map[string]bool{}}
	for _, name := range names {
		c.armed[name] = true
		Enable(t, name, func(scope any) error {
			if !mine(scope) {
				return nil
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			if !c.armed[name] {
				return nil
			}
			delete(c.armed, name)
			c.fired = append(c.fired, name)
			return err
		})
	}
	return c
}

// Fired lists the points that failed, in order.
func (c *Crashes) Fired() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.fired)
}
