package resumable

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"

	"docplat/lock"
)

// tusLocker is tusd's Locker over docplat's Redlock: the lock of an upload
// is held by whichever instance is writing it.
type tusLocker struct {
	locks Locker
	wait  time.Duration
}

func (l tusLocker) NewLock(id string) (handler.Lock, error) { return &tusLock{l: l, id: id}, nil }

type tusLock struct {
	l     tusLocker
	id    string
	lease *lock.Lease
}

var (
	errLocked = handler.NewError("ERR_UPLOAD_LOCKED",
		"another request is writing this upload right now; retry after it ends (HEAD gives the offset)", http.StatusLocked)
	errLocksDown = handler.NewError("ERR_LOCKS_UNAVAILABLE",
		"the upload cannot be locked right now (lock service unavailable); nothing was written, retry shortly", http.StatusServiceUnavailable)
)

// Lock takes the upload's lease, waiting at most the configured wait: a
// request for an upload that another one (on any instance) is writing is
// answered 423 soon, and a tus client retries. requestUnlock cannot reach
// a holder on another instance, so it is not used: the holder's request
// ends when its client's connection does.
func (k *tusLock) Lock(ctx context.Context, _ func()) error {
	ctx, cancel := context.WithTimeout(ctx, k.l.wait)
	defer cancel()
	lease, err := k.l.locks.Acquire(ctx, "tus:"+k.id)
	switch {
	case errors.Is(err, lock.ErrTimeout):
		return errLocked
	case err != nil:
		return errLocksDown
	}
	k.lease = lease
	return nil
}

func (k *tusLock) Unlock() error {
	if k.lease == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := k.lease.Release(ctx)
	k.lease = nil
	return err
}
