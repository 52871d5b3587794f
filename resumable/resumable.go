// Package resumable is resumable uploads over the tus protocol (tusd): a
// new document or a new version sent in pieces that survive a broken
// connection and resume, on any instance, from the last byte received.
//
// What it owns and guarantees:
//   - The upload's bytes live where every instance reaches them: tusd's
//     file store in a directory every instance shares (beside the blob
//     store), or, with the blobs on S3, tusd's S3 store in the blob bucket
//     under S3Prefix (a multipart upload per upload); two requests never write one
//     upload at once, on one instance or several: tusd's lock is a Redlock
//     lease (package lock). A request that finds the upload locked is
//     answered "locked" at once rather than queued.
//   - A record per upload (table resumable_uploads) says whose it is, what
//     it becomes (a new document with its metadata, or a new version of a
//     document at an If-Match), when it expires and how it ended
//     (uploading, processing, done with the document's id, failed with the
//     contract's error body).
//   - Refusals that can be known before the bytes are sent are given at
//     creation: the size limit, the metadata, the caller's right to write,
//     an early quota check (the department's remaining quota), the number
//     of unfinished uploads per user. The quota decision itself stays the
//     three-phase commit's vote at the end.
//   - At the end the file is streamed into the blob store's staging
//     (docs.Service.Stage: hashed while streaming, type sniffed, never in
//     memory) and written by docs Create or ReplaceContent under the
//     idempotency key "tus:<id>", so a repeated finish (a client's retry,
//     two instances) makes one document. The tus data is removed once the
//     upload is done or refused.
//   - Unfinished uploads expire (Options.Expiry) and a periodic cleanup
//     removes their data; it is idempotent, so every instance may run it.
//
// It answers no HTTP error bodies of its own: the server hands it a
// Refuser that renders an error as the contract's body.
package resumable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"
	"gorm.io/gorm"

	"docplat/docs"
	"docplat/errs"
	"docplat/idempotency"
	"docplat/internal/envflag"
	"docplat/lock"
)

// BasePath is where the uploads are mounted (the contract's API prefix).
const BasePath = "/api/v1/uploads/"

// Options configure the service.
type Options struct {
	// Dir holds tusd's file store; every instance must share it (the data
	// directory's "uploads" by default). With S3 it is local scratch: the
	// parts of a PATCH wait there on their way to the bucket.
	Dir string
	// S3, when set, keeps unfinished uploads in this bucket (under
	// S3Prefix) instead of Dir; nil: the directory.
	S3 *S3
	// Expiry is how long an unfinished upload may be resumed after its
	// creation; its data is removed after that.
	Expiry time.Duration
	// MaxUnfinished bounds the unfinished uploads of one user, across
	// instances, so that partial uploads cannot fill the disk.
	MaxUnfinished int
	// LockWait is how long a request waits for an upload another request
	// is writing before it is answered "locked".
	LockWait time.Duration
	// CleanupEvery is how often expired uploads are removed.
	CleanupEvery time.Duration
	// Now is the clock (tests step it past the expiry); default time.Now.
	Now        func() time.Time
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Bind declares the flags of resumable uploads onto o.
func (o *Options) Bind(b *envflag.Set) {
	b.Duration(&o.Expiry, "upload-expiry", 24*time.Hour, "how long an unfinished resumable (tus) upload may be resumed after its creation (Upload-Expires); its data is removed after that")
	b.Int(&o.MaxUnfinished, "upload-max-unfinished", 20, "unfinished resumable uploads one user may have at once, across instances")
}

// Validate reports every option out of its bounds.
func (o Options) Validate() error {
	var errs []error
	if o.Expiry < time.Minute || o.Expiry > 30*24*time.Hour {
		errs = append(errs, errors.New("Expiry must be between 1m and 720h"))
	}
	if o.MaxUnfinished < 1 || o.MaxUnfinished > 10000 {
		errs = append(errs, errors.New("MaxUnfinished must be between 1 and 10000"))
	}
	return errors.Join(errs...)
}

// Documents is what the uploads need of the document service.
type Documents interface {
	MaxUploadBytes() int64
	Stage(r io.Reader, filename string) (*docs.Staged, error)
	Create(ctx context.Context, actor docs.Actor, in docs.NewDocument, st *docs.Staged) (docs.Document, error)
	ReplaceContent(ctx context.Context, actor docs.Actor, id string, ifMatch docs.Precondition, st *docs.Staged) (docs.Document, error)
	CheckWritable(ctx context.Context, actor docs.Actor, id string, ifMatch docs.Precondition) error
	Get(ctx context.Context, actor docs.Actor, id string) (docs.Document, error)
}

// Locker hands out distributed leases (lock.Locker).
type Locker interface {
	Acquire(ctx context.Context, name string) (*lock.Lease, error)
}

// Claims are the idempotency records a finish runs under (idempotency.Store).
type Claims interface {
	Begin(ctx context.Context, user, key, request string) (idempotency.Claim, error)
	Finish(ctx context.Context, user, key, fingerprint string, resp idempotency.Response) error
	Release(ctx context.Context, user, key string) error
	Hold(ctx context.Context, user, key string, d time.Duration) error
}

// Usage answers a department's bytes used and quota (0: unlimited) for the
// early check at creation; "" is the usage bucket of users without one.
type Usage func(ctx context.Context, departmentID string) (used, quota int64, err error)

// Refuser renders err as the answer the contract gives for it (status,
// headers, the error body). The server provides it.
type Refuser func(ctx context.Context, err error) handler.HTTPResponse

// Service is resumable uploads.
type Service struct {
	db     *gorm.DB
	docs   Documents
	locks  Locker
	claims Claims
	usage  Usage
	store  dataStore
	// refuser renders refusals: the server's, set by Handler, which the
	// server calls before it serves anything.
	refuser Refuser
	opt     Options
	log     *slog.Logger
	m       *metrics
}

// New returns the service over db (the documents database, migrated).
func New(db *gorm.DB, d Documents, locks Locker, claims Claims, usage Usage, opt Options) (*Service, error) {
	if opt.Expiry <= 0 {
		opt.Expiry = 24 * time.Hour
	}
	if opt.MaxUnfinished <= 0 {
		opt.MaxUnfinished = 20
	}
	if opt.LockWait <= 0 {
		opt.LockWait = 2 * time.Second
	}
	if opt.CleanupEvery <= 0 {
		opt.CleanupEvery = time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Dir == "" {
		return nil, errors.New("resumable: no directory for the tus store")
	}
	if err := os.MkdirAll(opt.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("resumable: %w", err)
	}
	var store dataStore = dirStore{filestore.New(opt.Dir)}
	if opt.S3 != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s3, err := newS3Data(ctx, *opt.S3, opt.Dir, opt.Logger)
		if err != nil {
			return nil, err
		}
		store = s3
	}
	return &Service{db: db, docs: d, locks: locks, claims: claims, usage: usage, store: store,
		opt: opt, log: opt.Logger, m: newMetrics(opt.Registerer)}, nil
}

// Dir is the tus store's directory under a data directory.
func Dir(dataDir string) string { return filepath.Join(dataDir, "uploads") }

func (s *Service) now() time.Time { return s.opt.Now().UTC() }

// Errors of the service (their codes decide the answers).
var (
	ErrNotFound   = errs.New(errs.NotFound, "no such upload (or it is not yours)")
	ErrExpired    = errs.New(errs.NotFound, "this upload expired before it was finished; its data was removed: start a new upload")
	ErrTooMany    = errs.New(errs.Conflict, "too many unfinished uploads: finish or cancel (DELETE) one of yours first")
	ErrProcessing = errs.New(errs.Conflict, "this upload is being processed; GET it again shortly for its outcome")
	ErrNoLength   = errs.New(errs.BadRequest, "Upload-Length is required (deferred lengths are not accepted)")
	ErrFinished   = errs.New(errs.Conflict, "this upload is finished; it cannot be changed or cancelled")
)
