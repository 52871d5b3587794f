package docs

import (
	"context"
	"sync"
)

// Reads may be served by a database replica (sqlstore, with
// DOCPLAT_MYSQL_REPLICA_DSNS) only where this package says so: a search
// or listing (Service.List) and a document cache's miss (the cached
// repository's loader, which fences what it gets). Every other read - a
// writer's own, inside a transaction, under a document's lock - goes to
// the primary. The permission travels in the context, so that the store
// decides the route without a second API.

type replicaKey struct{}

// ReplicaRoute is a read's permission to use a replica and what the store
// did with it.
type ReplicaRoute struct {
	mu     sync.Mutex
	served bool // a replica answered (at least one query of) the read
	veto   func() bool
	vetoed *bool
}

// MayReadReplica lets the store answer the reads under ctx from a replica.
// The returned route says afterwards whether one did.
func MayReadReplica(ctx context.Context) (context.Context, *ReplicaRoute) {
	r := &ReplicaRoute{}
	if w, ok := ctx.Value(writerKey{}).(func() bool); ok {
		r.veto = w
	}
	return context.WithValue(ctx, replicaKey{}, r), r
}

// ReplicaRouteOf is the store's question: may this read use a replica?
// nil without MayReadReplica (or under PrimaryOnly).
func ReplicaRouteOf(ctx context.Context) *ReplicaRoute {
	r, _ := ctx.Value(replicaKey{}).(*ReplicaRoute)
	return r
}

// Allowed is false for a caller who wrote within the replicas' lag bound
// (WithRecentWriter: read-your-writes). The store asks it once a healthy
// replica could serve the read, so that the question (a Redis round trip)
// is asked only then, and once per route.
func (r *ReplicaRoute) Allowed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.veto == nil {
		return true
	}
	if r.vetoed == nil {
		v := r.veto()
		r.vetoed = &v
	}
	return !*r.vetoed
}

// Served records that a replica answered.
func (r *ReplicaRoute) Served() {
	r.mu.Lock()
	r.served = true
	r.mu.Unlock()
}

// FromReplica reports whether a replica answered.
func (r *ReplicaRoute) FromReplica() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.served
}

// PrimaryOnly takes away a replica permission ctx may carry: the reads
// under it go to the primary.
func PrimaryOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, replicaKey{}, (*ReplicaRoute)(nil))
}

type writerKey struct{}

// WithRecentWriter attaches to a request whether its caller wrote within
// the replicas' lag bound (asked lazily: only when a replica could serve
// one of its reads). A caller who did reads from the primary: what they
// just wrote may not have reached a replica yet.
func WithRecentWriter(ctx context.Context, recent func() bool) context.Context {
	return context.WithValue(ctx, writerKey{}, recent)
}

type knownKey struct{}

// WithKnownRevision records that the caller has been told of revision rev
// of the document it reads (its If-None-Match or If-Match, a read token's
// signed revision): an answer older than that, from a lagging replica or a
// cache level that lost a tombstone, is read again from the primary.
func WithKnownRevision(ctx context.Context, rev int) context.Context {
	return context.WithValue(ctx, knownKey{}, rev)
}

func knownRevision(ctx context.Context) int {
	v, _ := ctx.Value(knownKey{}).(int)
	return v
}
