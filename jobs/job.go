// Package jobs is docplat's durable work queue on Kafka: work that must
// not be lost and must not run on the request path (extracting a
// document's text for search, rendering its previews). A Queue publishes
// Jobs to a topic, keyed by document id; a Pool's workers are members of
// one consumer group on it, so more workers, in this process or others
// (`docplat worker`), share its partitions. A job's offset is committed
// only after its handler returned (at least once: handlers are
// idempotent, and fence their writes on the job's version). A failed
// attempt is retried after an exponential backoff through a second topic
// (see retry.go) and, after the last attempt, recorded as failed by its
// kind's Failed function; neither blocks the jobs behind it.
//
// It knows nothing of documents: a Job names one by id, version and
// digest, and what a kind does is the handler registered for it.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Job is one piece of work about one content of a document.
type Job struct {
	Kind       string    `json:"kind"`
	DocumentID string    `json:"document_id"`
	Version    int       `json:"version"`
	SHA256     string    `json:"sha256"`
	Mime       string    `json:"mime"`
	Attempt    int       `json:"attempt"` // 1 for the first run
	EnqueuedAt time.Time `json:"enqueued_at"`
	// DueAt is when a retry may run (zero: at once).
	DueAt time.Time `json:"due_at,omitzero"`
	// LastError is why the previous attempt failed.
	LastError string `json:"last_error,omitempty"`
}

func encode(j Job) ([]byte, error) { return json.Marshal(j) }

func decode(b []byte) (Job, error) {
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return j, err
	}
	if j.Kind == "" || j.DocumentID == "" {
		return j, errors.New("a job needs a kind and a document id")
	}
	if j.Attempt < 1 {
		j.Attempt = 1
	}
	return j, nil
}

// Kind is what the workers do with the jobs of one kind.
type Kind struct {
	// Handle does the work. It runs at least once per job, possibly
	// twice or concurrently with a duplicate (a redelivery after a crash,
	// the sweeper's re-enqueue), so it is idempotent. An error is retried;
	// one wrapped by Permanent is not.
	Handle func(ctx context.Context, j Job) error
	// Failed records, durably, that j failed for good with reason (after
	// the last attempt, or a permanent error). Until it returns nil the
	// job is not committed: it runs again.
	Failed func(ctx context.Context, j Job, reason error) error
}

// permanent marks an error that retrying cannot cure.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that the job fails at once, without retries (a
// file no extractor can read, a type with nothing to extract).
func Permanent(err error) error { return permanent{err} }

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// backoff is the wait before attempt n+1 after attempt n failed: base
// doubled per attempt, capped.
func backoff(base, cap time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < cap; i++ {
		d *= 2
	}
	return min(d, cap)
}

func (j Job) String() string {
	return fmt.Sprintf("%s %s v%d (attempt %d)", j.Kind, j.DocumentID, j.Version, j.Attempt)
}
