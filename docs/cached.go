package docs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"docplat/cache"
	"docplat/errs"
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
// cache's invalidation store is unreachable before the commit, or the
// transaction aborted); nothing was changed. The cause is wrapped with it.
var ErrUnavailable = errs.New(errs.Unavailable, "the change could not be made right now (the lock service, the cache or a service in its transaction did not answer in time); nothing was changed, retry shortly")

// cachedRepository reads documents through the cache and brackets every
// write with the document's lock and two invalidations: one before the
// commit (so no reader can fill the old version into L2 while the write is
// in flight; a write that cannot record it is refused) and one after it,
// carrying the committed version (best effort: see afterCommit). The lock
// keeps writers of one document in line; correctness does not depend on it,
// because every cache level is fenced by the row version.
type cachedRepository struct {
	Repository
	cache       Cache
	lock        WriteLock
	lockTimeout time.Duration
	edge        Edge // nil: no hot tier
	decoded     *cache.Memo[Document]
	log         *slog.Logger
}

// WithCache decorates repo with the read-through cache and the write
// protocol. edge (may be nil) is purged at the same two points as the
// cache, so the hot tier keeps the cache's staleness bound.
func WithCache(repo Repository, c Cache, lock WriteLock, lockTimeout time.Duration, edge Edge) Repository {
	if lockTimeout <= 0 {
		lockTimeout = 5 * time.Second
	}
	return &cachedRepository{Repository: repo, cache: c, lock: lock, lockTimeout: lockTimeout, edge: edge, log: slog.Default(),
		decoded: cache.NewMemo(func(b []byte) (Document, error) {
			var c cachedDocument
			err := json.Unmarshal(b, &c)
			c.Document.Grants = c.Grants
			return c.Document, err
		}, func(d Document) Document { d.Tags, d.Grants = slices.Clone(d.Tags), slices.Clone(d.Grants); return d })}
}

// cachedDocument is a document as the cache holds it: with its grants,
// which its own JSON leaves out, so that reads decide without a query.
type cachedDocument struct {
	Document
	Grants []Grant `json:"grants,omitempty"`
}

func toCached(d Document) cachedDocument { return cachedDocument{Document: d, Grants: d.Grants} }

func docKey(id string) string { return "doc:" + id }

func (r *cachedRepository) Get(ctx context.Context, id string) (Document, error) {
	e, err := r.cache.Get(ctx, docKey(id), func(ctx context.Context) (cache.Entry, error) {
		d, err := r.load(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return cache.Entry{Missing: true}, nil
		}
		if err != nil {
			return cache.Entry{}, err
		}
		b, err := json.Marshal(toCached(d))
		return cache.Entry{Version: Fence(d), Value: b}, err
	})
	if err != nil {
		return Document{}, err
	}
	// e.Version is a fence (Fence), known a revision: compare in fences.
	if known := knownRevision(ctx); known > 0 && (e.Missing || e.Version < revisionFence(known)) {
		// The caller was told of a newer revision than any level had: the
		// primary answers (the cache's own fences keep it from storing
		// anything older than what it holds).
		replicaFenced.Add(1)
		return r.Repository.Get(PrimaryOnly(ctx), id)
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

// load reads a document for the cache, from a replica when the store has
// a healthy one, under the revision fence: a replica lags the primary by up
// to its lag bound, so what it answers is refused, and read again from the
// primary, when it is older than the newest revision the cache knew when
// the load began (a write's tombstone: some client may have been told of
// that revision already) or than the one the caller says it was told of
// (WithKnownRevision), or when it has no such document (one just created
// may not have reached the replica; a negative entry would hide it).
func (r *cachedRepository) load(ctx context.Context, id string) (Document, error) {
	rctx, route := MayReadReplica(ctx)
	d, err := r.Repository.Get(rctx, id)
	if !route.FromReplica() {
		return d, err
	}
	// The cache's floor is a fence (Fence: 2*revision, +1 once the text
	// settled); what a client was told of is a revision.
	floor, known := cache.Floor(ctx), knownRevision(ctx)
	switch {
	case errors.Is(err, ErrNotFound):
	case err == nil && (Fence(d) < floor || d.Revision < known):
	default:
		return d, err
	}
	replicaFenced.Add(1)
	r.log.DebugContext(ctx, "replica answer older than the cache's revision fence: read from the primary",
		"document_id", id, "replica_revision", d.Revision, "fence", floor, "known_revision", known, "err", err)
	return r.Repository.Get(PrimaryOnly(ctx), id)
}

// replicaFenced counts the answers refused for being older than a fence
// (ReplicaFencedReads).
var replicaFenced atomic.Int64

// ReplicaFencedReads is how many reads were answered older than a fence (a
// replica's answer to a cache miss older than the cache's tombstone or
// without the document; a cached answer older than the revision the caller
// was told of) and read again from the primary, since the process started
// (docplat_replica_fenced_reads_total).
func ReplicaFencedReads() int64 { return replicaFenced.Load() }

// Fence is the version every cache level holds a document at: its
// revision, and within one revision its text settling (pending, then ready
// or failed), the one change that bumps no revision: clients hold the
// revision (ETags, read tokens) and the extraction job's write changes
// nothing they hold it against, while a cached pending copy must never
// overwrite the settled one. A revision's fences are 2*rev (text pending)
// and 2*rev+1 (settled or none), so every write's fence exceeds the last.
func Fence(d Document) int64 {
	f := revisionFence(d.Revision)
	if d.TextState != TextPending {
		f++
	}
	return f
}

// revisionFence is the lowest fence of revision rev: a tombstone there
// refuses every older revision and admits any copy of rev itself.
func revisionFence(rev int) int64 { return 2 * int64(rev) }

// invalidate tombstones the cached document below fence and, with
// edgeRev > 0, purges the hot tier below revision edgeRev.
func (r *cachedRepository) invalidate(ctx context.Context, id string, fence int64, edgeRev int) error {
	if err := r.cache.Invalidate(ctx, docKey(id), fence); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if r.edge != nil && edgeRev > 0 {
		if err := r.edge.Purge(ctx, id, edgeRev); err != nil {
			return fmt.Errorf("%w: purging the nginx hot tier: %w", ErrUnavailable, err)
		}
	}
	return nil
}

// write runs fn under the document's lock between two invalidations. fn
// returns the revision it committed.
func (r *cachedRepository) write(ctx context.Context, id string, check func(Document) error, fn func() (int, error)) error {
	return r.locked(ctx, id, check, func(cur Document) error {
		next := cur.Revision + 1
		if err := r.invalidate(ctx, id, revisionFence(next), next); err != nil {
			return err
		}
		committed, err := fn()
		if MayHaveCommitted(err) {
			r.afterCommit(ctx, id, revisionFence(next), next)
			return err
		}
		if err != nil {
			return err
		}
		r.afterCommit(ctx, id, revisionFence(committed), committed)
		return nil
	})
}

// locked runs fn under the document's lock with its current row, once
// check approved it.
func (r *cachedRepository) locked(ctx context.Context, id string, check func(Document) error, fn func(cur Document) error) error {
	lctx, cancel := context.WithTimeout(ctx, r.lockTimeout)
	release, err := r.lock(lctx, docKey(id))
	cancel()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer release()
	cur, err := r.Repository.Get(PrimaryOnly(ctx), id)
	if err != nil {
		return err
	}
	// Refuse early, so that callers who may not write cannot cause invalidations.
	if err := check(cur); err != nil {
		return err
	}
	return fn(cur)
}

// MayHaveCommitted reports whether a write's error leaves it committed or
// on its way (ErrNotYetReadable, ErrInDoubt): the cache must be fenced as
// for a success, and the caller must not be told that nothing changed.
func MayHaveCommitted(err error) bool {
	return errors.Is(err, ErrNotYetReadable) || errors.Is(err, ErrInDoubt)
}

// afterCommitRetry bounds the background retries of a failed post-commit
// invalidation: past the cache's tombstone life nothing older can be
// refilled anyway (the pre-commit tombstone and the fill lease, below).
const afterCommitRetry = time.Minute

// afterCommit records the committed version in the cache and the hot tier.
// Its failure does not change the answer: the write happened, and saying
// "unavailable, nothing changed" would make the client pay twice. Staleness
// stays bounded without it, because the pre-commit invalidation (which a
// write cannot pass without) already tombstoned the next revision in L2 and
// every L1 and purged the edge below it: no level can be filled with the
// old version while that tombstone lives (the cache's TombstoneTTL, 60 s,
// well beyond the coordinator's CommitWait plus the fill lease). It is
// retried in the background so that the committed revision, not only the
// predicted one, is recorded once the cache node answers again.
func (r *cachedRepository) afterCommit(ctx context.Context, id string, fence int64, edgeRev int) {
	ctx = context.WithoutCancel(ctx)
	err := r.invalidate(ctx, id, fence, edgeRev)
	if err == nil {
		return
	}
	r.log.WarnContext(ctx, "post-commit invalidation failed; the write stands, retrying in the background",
		"document_id", id, "fence", fence, "err", err)
	go func() {
		deadline := time.Now().Add(afterCommitRetry)
		for delay := 100 * time.Millisecond; time.Now().Before(deadline); delay = min(2*delay, 5*time.Second) {
			time.Sleep(delay)
			if err = r.invalidate(ctx, id, fence, edgeRev); err == nil {
				r.log.InfoContext(ctx, "post-commit invalidation recorded after retries", "document_id", id, "fence", fence)
				return
			}
		}
		r.log.ErrorContext(ctx, "post-commit invalidation abandoned; the pre-commit tombstone has expired meanwhile",
			"document_id", id, "fence", fence, "err", err)
	}()
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

// SetText is a write under the document's lock like the others, without
// a revision: its fence is the revision's settled one (Fence), tombstoned
// in every cache level before and after the commit, so that no copy of
// the pending text can be filled over it. The hot tier is not purged: it
// holds the content and its headers, which the text does not change. A
// stale result is refused before any invalidation.
func (r *cachedRepository) SetText(ctx context.Context, id string, res TextResult) (Document, error) {
	var out Document
	err := r.locked(ctx, id, func(cur Document) error {
		if !res.Current(cur) {
			return ErrTextStale
		}
		return nil
	}, func(cur Document) error {
		settled := revisionFence(cur.Revision) + 1
		if err := r.invalidate(ctx, id, settled, 0); err != nil {
			return err
		}
		d, err := r.Repository.SetText(ctx, id, res)
		if err != nil {
			return err
		}
		out = d
		r.afterCommit(ctx, id, settled, 0)
		return nil
	})
	return out, err
}

func (r *cachedRepository) Trash(ctx context.Context, id string, check func(Document) error, mark TrashMark) error {
	var trashedAt int
	return r.write(ctx, id, func(cur Document) error {
		trashedAt = cur.Revision + 1
		return check(cur)
	}, func() (int, error) {
		return trashedAt, r.Repository.Trash(ctx, id, check, mark)
	})
}

func (r *cachedRepository) Restore(ctx context.Context, id string, check func(Document) error) (Document, error) {
	var out Document
	err := r.write(ctx, id, check, func() (int, error) {
		d, err := r.Repository.Restore(ctx, id, check)
		out = d
		return d.Revision, err
	})
	return out, err
}
