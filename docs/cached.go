package docs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"docplat/cache"
)

// Cache is the versioned read-through cache the repository reads through
// (cache.Cache).
type Cache interface {
	Get(ctx context.Context, key string, load cache.Loader) (cache.Entry, error)
	Invalidate(ctx context.Context, key string, version int64) error
}

// WriteLock serializes the writers of one key across instances and returns
// the function that releases it (lock.Locker, adapted where it is wired).
type WriteLock func(ctx context.Context, key string) (release func(), err error)

// Edge is the nginx hot tier as writers see it: Purge makes every edge
// stop serving id below revision rev before it returns
// (hotspot.EdgePurger, which skips documents that are not hot).
type Edge interface {
	Purge(ctx context.Context, id string, rev int) error
}

// ErrUnavailable: the write could not be made safely (the lock quorum or the
// cache's invalidation store is unreachable); nothing was changed.
var ErrUnavailable = errors.New("the document service cannot accept writes right now")

// cachedRepository reads documents through the cache and brackets every
// write with the document's lock and two invalidations: one before the
// commit (so no reader can fill the old version into L2 while the write is
// in flight) and one after it, carrying the committed version. The lock
// keeps writers of one document in line; correctness does not depend on it,
// because every cache level is fenced by the row version.
type cachedRepository struct {
	Repository
	cache       Cache
	lock        WriteLock
	lockTimeout time.Duration
	edge        Edge // nil: no hot tier
	decoded     *cache.Memo[Document]
}

// WithCache decorates repo with the read-through cache and the write
// protocol. edge (may be nil) is purged at the same two points as the
// cache, so the hot tier keeps the cache's staleness bound.
func WithCache(repo Repository, c Cache, lock WriteLock, lockTimeout time.Duration, edge Edge) Repository {
	if lockTimeout <= 0 {
		lockTimeout = 5 * time.Second
	}
	return &cachedRepository{Repository: repo, cache: c, lock: lock, lockTimeout: lockTimeout, edge: edge,
		decoded: cache.NewMemo(func(b []byte) (Document, error) {
			var d Document
			return d, json.Unmarshal(b, &d)
		}, func(d Document) Document { d.Tags = slices.Clone(d.Tags); return d })}
}

func docKey(id string) string { return "doc:" + id }

func (r *cachedRepository) Get(ctx context.Context, id string) (Document, error) {
	e, err := r.cache.Get(ctx, docKey(id), func(ctx context.Context) (cache.Entry, error) {
		d, err := r.Repository.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return cache.Entry{Missing: true}, nil
		}
		if err != nil {
			return cache.Entry{}, err
		}
		b, err := json.Marshal(d)
		return cache.Entry{Version: int64(d.Revision), Value: b}, err
	})
	if err != nil {
		return Document{}, err
	}
	if e.Missing {
		return Document{}, ErrNotFound
	}
	d, err := r.decoded.Decode(docKey(id), e.Value)
	if err != nil {
		return Document{}, fmt.Errorf("cached document %s: %w", id, err)
	}
	return d, nil
}

func (r *cachedRepository) invalidate(ctx context.Context, id string, version int) error {
	if err := r.cache.Invalidate(ctx, docKey(id), int64(version)); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if r.edge != nil {
		if err := r.edge.Purge(ctx, id, version); err != nil {
			return fmt.Errorf("%w: purging the nginx hot tier: %v", ErrUnavailable, err)
		}
	}
	return nil
}

// write runs fn under the document's lock between two invalidations. fn
// returns the revision it committed.
func (r *cachedRepository) write(ctx context.Context, id string, check func(Document) error, fn func() (int, error)) error {
	lctx, cancel := context.WithTimeout(ctx, r.lockTimeout)
	release, err := r.lock(lctx, docKey(id))
	cancel()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer release()
	cur, err := r.Repository.Get(ctx, id)
	if err != nil {
		return err
	}
	// Refuse early, so that callers who may not write cannot cause invalidations.
	if err := check(cur); err != nil {
		return err
	}
	if err := r.invalidate(ctx, id, cur.Revision+1); err != nil {
		return err
	}
	committed, err := fn()
	if err != nil {
		return err
	}
	// Not cancellable: the commit happened, the tombstone must follow it.
	return r.invalidate(context.WithoutCancel(ctx), id, committed)
}

func (r *cachedRepository) Create(ctx context.Context, d Document, c NewContent) error {
	// The id is new: nothing to lock, but a negative entry may exist.
	if err := r.invalidate(ctx, d.ID, d.Revision); err != nil {
		return err
	}
	if err := r.Repository.Create(ctx, d, c); err != nil {
		return err
	}
	return r.invalidate(context.WithoutCancel(ctx), d.ID, d.Revision)
}

func (r *cachedRepository) AddVersion(ctx context.Context, id string, check func(Document) error, c NewContent) (Document, error) {
	var out Document
	err := r.write(ctx, id, check, func() (int, error) {
		d, err := r.Repository.AddVersion(ctx, id, check, c)
		out = d
		return d.Revision, err
	})
	return out, err
}

func (r *cachedRepository) UpdateMeta(ctx context.Context, id string, check func(Document) error, change func(*Document)) (Document, error) {
	var out Document
	err := r.write(ctx, id, check, func() (int, error) {
		d, err := r.Repository.UpdateMeta(ctx, id, check, change)
		out = d
		return d.Revision, err
	})
	return out, err
}

func (r *cachedRepository) Delete(ctx context.Context, id string, check func(Document) error) error {
	var deletedAt int
	return r.write(ctx, id, func(cur Document) error {
		deletedAt = cur.Revision + 1
		return check(cur)
	}, func() (int, error) {
		return deletedAt, r.Repository.Delete(ctx, id, check)
	})
}
