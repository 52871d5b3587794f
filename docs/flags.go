package docs

import (
	"errors"
	"time"

	"docplat/internal/envflag"
)

// Bind declares the document service's flags onto o.
func (o *Options) Bind(b *envflag.Set) {
	b.Int64(&o.MaxUploadBytes, "max-upload-bytes", 100<<20, "largest accepted document in bytes")
	b.Duration(&o.BlobGrace, "blob-grace", time.Hour, "unreferenced blobs and staging files younger than this are kept")
	b.Duration(&o.TrashRetention, "trash-retention", DefaultTrashRetention, "how long a deleted document stays in its owner's trash, restorable, before it is purged for good (its bytes count against the quota until then)")
	b.Int64(&o.MaxCachedContent, "cache-max-content-bytes", 1<<20, "contents up to this size are cached; larger ones stream from the blob store")
}

// RunOptions are the document service's background jobs and the caches
// in front of its repository: the arguments of Service.Run, WithCache and
// WithSearchCache as a command configures them.
type RunOptions struct {
	GCInterval     time.Duration // how often garbage is collected
	CountsFlush    time.Duration // how often the views/downloads counters are written
	SearchCacheTTL time.Duration // how long a search ranking is reused; 0 disables
	LockTimeout    time.Duration // how long a write waits for its document's lock
	// TextSweepAfter is how long a document's text, or its previews, may
	// stay pending before the sweeper enqueues its job again
	// (SweepPendingText, SweepPendingPreviews).
	TextSweepAfter time.Duration
	// NoDepartmentQuota bounds the bytes of documents whose owner has no
	// department (the NoDepartment bucket of WithThreePhaseCommit); 0: unlimited.
	NoDepartmentQuota int64
}

// Bind declares the flags of the background jobs and repository caches onto o.
func (o *RunOptions) Bind(b *envflag.Set) {
	b.Duration(&o.GCInterval, "gc-interval", 10*time.Minute, "how often garbage is collected")
	b.Int64(&o.NoDepartmentQuota, "no-department-quota", 0, "storage quota in bytes shared by the documents of users without a department (administrators, members not yet placed), counted like a department's under the name \"none\"; 0 is unlimited")
	b.Duration(&o.LockTimeout, "lock-timeout", 5*time.Second, "how long a write waits for its document's lock before it is refused 503")
	b.Duration(&o.CountsFlush, "counts-flush-interval", time.Second, "the documents' own views/downloads counters (the listing's views sort) are written this often (10ms-1m)")
	b.Duration(&o.TextSweepAfter, "text-sweep-after", 5*time.Minute, "a document whose text or previews have been pending this long has its extraction or preview job enqueued again (a job lost between the commit and Kafka); the longest a lost job delays a body's search or a preview (10s-24h)")
	b.Duration(&o.SearchCacheTTL, "search-cache-ttl", 5*time.Second, "full-text search rankings are reused this long per query and caller, and answered up to 1 min longer while one request refreshes them; every item is re-read and re-checked on each answer, so the TTL only delays new matches; 0 disables")
}

// Validate reports every option out of its bounds.
func (o *RunOptions) Validate() error {
	var errs []error
	if o.GCInterval < time.Second {
		errs = append(errs, errors.New("GCInterval must be at least 1s"))
	}
	if o.CountsFlush < 10*time.Millisecond || o.CountsFlush > time.Minute {
		errs = append(errs, errors.New("CountsFlush must be between 10ms and 1m"))
	}
	if o.SearchCacheTTL < 0 || o.SearchCacheTTL > time.Hour {
		errs = append(errs, errors.New("SearchCacheTTL must be between 0 and 1h"))
	}
	if o.NoDepartmentQuota < 0 {
		errs = append(errs, errors.New("NoDepartmentQuota must not be negative"))
	}
	if o.TextSweepAfter < 10*time.Second || o.TextSweepAfter > 24*time.Hour {
		errs = append(errs, errors.New("TextSweepAfter must be between 10s and 24h"))
	}
	if o.LockTimeout < 100*time.Millisecond {
		errs = append(errs, errors.New("LockTimeout must be at least 100ms"))
	}
	return errors.Join(errs...)
}
