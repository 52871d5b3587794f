// Package lock provides distributed mutual exclusion with Redlock (redsync)
// over several independent Redis nodes: a lock is held when a majority of
// the nodes grant it. It knows nothing of what it protects.
//
// A Redlock lease can expire while its holder is paused (GC, SIGSTOP), so a
// lock alone never makes a write safe: callers fence their writes with a
// version that the storage checks (see cache's compare-and-set). The lock
// only keeps writers from stepping on each other in the common case.
package lock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redsync/redsync/v4"
	redsyncredis "github.com/go-redsync/redsync/v4/redis"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

var (
	// ErrUnavailable: too few lock nodes answered to form a quorum.
	ErrUnavailable = errors.New("lock: quorum of lock nodes unavailable")
	// ErrTimeout: the lock stayed taken by another holder until the deadline.
	ErrTimeout = errors.New("lock: timed out waiting for the lock")
)

// Options configure a Locker.
type Options struct {
	Expiry     time.Duration // lease length before extension; default 8s
	RetryDelay time.Duration // between acquisition attempts; default 25ms
	Registerer prometheus.Registerer
}

// Locker hands out leases on named locks.
type Locker struct {
	rs      *redsync.Redsync
	clients []*redis.Client
	opt     Options
	m       *metrics
}

// New returns a Locker over the Redis nodes at addrs (at least one; three or
// more for fault tolerance: a majority must answer).
func New(addrs []string, opt Options) (*Locker, error) {
	if len(addrs) == 0 {
		return nil, errors.New("lock: no Redis nodes")
	}
	if opt.Expiry <= 0 {
		opt.Expiry = 8 * time.Second
	}
	if opt.RetryDelay <= 0 {
		opt.RetryDelay = 25 * time.Millisecond
	}
	l := &Locker{opt: opt, m: newMetrics(opt.Registerer)}
	pools := make([]redsyncredis.Pool, 0, len(addrs))
	for _, a := range addrs {
		// A dead node must cost a quick refusal, not retries: the quorum is
		// decided by the nodes that answer.
		c := redis.NewClient(&redis.Options{Addr: a, DialTimeout: 300 * time.Millisecond,
			ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, MaxRetries: -1, PoolSize: 32,
			DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
		l.clients = append(l.clients, c)
		pools = append(pools, goredis.NewPool(c))
	}
	l.rs = redsync.New(pools...)
	return l, nil
}

// Close closes the node connections.
func (l *Locker) Close() error {
	var errs []error
	for _, c := range l.clients {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Lease is a held lock. It extends itself in the background until Release;
// Lost is closed if an extension fails (the lease may have expired).
type Lease struct {
	mu      *redsync.Mutex
	until   atomic.Int64 // unix nanos; redsync's own field is written by extensions unsynchronized
	l       *Locker
	start   time.Time
	stop    chan struct{}
	done    chan struct{}
	lost    chan struct{}
	release sync.Once
}

// Acquire takes the named lock, retrying until ctx ends. It fails with
// ErrUnavailable when no quorum of nodes answers and ErrTimeout when the
// lock stayed taken.
func (l *Locker) Acquire(ctx context.Context, name string) (*Lease, error) {
	start := time.Now()
	mu := l.rs.NewMutex("lock:"+name,
		redsync.WithExpiry(l.opt.Expiry),
		redsync.WithTries(1<<30), // bounded by ctx instead
		redsync.WithRetryDelay(l.opt.RetryDelay),
		redsync.WithTimeoutFactor(0.05))
	err := mu.LockContext(ctx)
	l.m.acquire.Observe(time.Since(start).Seconds())
	if err != nil {
		err = l.classify(ctx, err)
		l.m.failures.WithLabelValues(reason(err)).Inc()
		return nil, err
	}
	lease := &Lease{mu: mu, l: l, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{}), lost: make(chan struct{})}
	lease.until.Store(mu.Until().UnixNano())
	go lease.keepAlive()
	l.m.held.Inc()
	return lease, nil
}

// classify turns redsync's errors into ours. When the context ended, the
// nodes are asked directly whether a quorum is reachable at all.
func (l *Locker) classify(ctx context.Context, err error) error {
	var redisErr *redsync.RedisError
	if errors.As(err, &redisErr) || !l.quorumReachable(ctx) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if ctx.Err() != nil || errors.Is(err, redsync.ErrFailed) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	var taken *redsync.ErrTaken
	if errors.As(err, &taken) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// quorumReachable pings every node at once, each with its own deadline, so
// one hung node cannot make the healthy ones look down.
func (l *Locker) quorumReachable(ctx context.Context) bool {
	answers := make(chan bool, len(l.clients))
	for _, c := range l.clients {
		go func() {
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 300*time.Millisecond)
			defer cancel()
			answers <- c.Ping(pctx).Err() == nil
		}()
	}
	ok := 0
	for range l.clients {
		if <-answers {
			ok++
		}
	}
	return ok > len(l.clients)/2
}

// Healthy reports whether a quorum of lock nodes answers (for /readyz).
func (l *Locker) Healthy(ctx context.Context) error {
	if !l.quorumReachable(ctx) {
		return ErrUnavailable
	}
	return nil
}

func reason(err error) string {
	if errors.Is(err, ErrUnavailable) {
		return "unavailable"
	}
	return "timeout"
}

// Until is when the lease expires unless extended.
func (ls *Lease) Until() time.Time { return time.Unix(0, ls.until.Load()) }

// Lost is closed when the lease could not be extended and may have expired.
func (ls *Lease) Lost() <-chan struct{} { return ls.lost }

// keepAlive extends the lease at a third of its expiry, so that long
// operations keep it; a failed extension closes Lost.
func (ls *Lease) keepAlive() {
	defer close(ls.done)
	t := time.NewTicker(ls.l.opt.Expiry / 3)
	defer t.Stop()
	for {
		select {
		case <-ls.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), ls.l.opt.Expiry/3)
			ok, err := ls.mu.ExtendContext(ctx)
			cancel()
			if !ok || err != nil {
				ls.l.m.lost.Inc()
				close(ls.lost)
				return
			}
			ls.until.Store(ls.mu.Until().UnixNano())
		}
	}
}

// Hold takes the named lock for a caller that only needs to give it back
// (docs.WriteLock): release logs a failed unlock to log, since the lease
// expires by itself and the writer's fence keeps the write safe.
func (l *Locker) Hold(log *slog.Logger) func(ctx context.Context, name string) (release func(), err error) {
	return func(ctx context.Context, name string) (func(), error) {
		lease, err := l.Acquire(ctx, name)
		if err != nil {
			return nil, err
		}
		return func() {
			if err := lease.Release(context.Background()); err != nil {
				log.Warn("releasing a write lock", "key", name, "err", err)
			}
		}, nil
	}
}

// Release stops extension and unlocks. Releasing twice is harmless.
func (ls *Lease) Release(ctx context.Context) error {
	var err error
	ls.release.Do(func() {
		close(ls.stop)
		<-ls.done
		ls.l.m.held.Dec()
		ls.l.m.hold.Observe(time.Since(ls.start).Seconds())
		var ok bool
		ok, err = ls.mu.UnlockContext(ctx)
		if err == nil && !ok {
			err = errors.New("lock: lease had already expired at release")
		}
	})
	return err
}
