// Package docs is the document domain: upload, versions, metadata, search
// and who may see what. It knows no HTTP and no SQL: storage is reached
// through Repository and blobs through the blob store. Its errors are of
// the one vocabulary (package errs): the Err variables below, which callers
// match with errors.Is, and errs.BadRequest errors for bad input.
package docs

import (
	"context"
	"time"

	"docplat/errs"
)

// Visibility says who may read a document besides its owner and administrators.
type Visibility string

const (
	Private    Visibility = "private"    // owner, admins, its department's dept_admins
	Department Visibility = "department" // plus every member of its department
	Public     Visibility = "public"     // everyone, signed in or not
)

// Valid reports whether v is a known visibility.
func (v Visibility) Valid() bool { return v == Private || v == Department || v == Public }

// Document is the current state of a document.
type Document struct {
	ID           string     `json:"id"`
	Title        string     `json:"title"`
	Description  string     `json:"description"`
	Tags         []string   `json:"tags"`
	Visibility   Visibility `json:"visibility"`
	OwnerID      string     `json:"owner_id"`
	DepartmentID string     `json:"department_id"`
	Filename     string     `json:"filename"`
	Size         int64      `json:"size"`
	Mime         string     `json:"mime"`
	SHA256       string     `json:"sha256"`
	Version      int        `json:"version"`  // content version: +1 per upload of content
	Revision     int        `json:"revision"` // +1 on every change, metadata or content
	Views        int64      `json:"views"`
	Downloads    int64      `json:"downloads"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	// TextState is where the content's text for search stands: its body
	// is found by search once ready (title, tags and description at once).
	TextState TextState `json:"text_state"`
	// PublishAt (nil: published) hides the document from everyone but
	// its managers until then (Published); LectureAt is when it is handed
	// out, which the hot tier is pre-warmed for. Both are whole seconds.
	PublishAt *time.Time `json:"publish_at"`
	LectureAt *time.Time `json:"lecture_at"`
	Snippet   string     `json:"snippet,omitempty"` // search results only
	// DeletedAt, DeletedBy and PurgeAt are set while the document is in
	// its owner's trash (DELETE put it there): invisible to every read,
	// still counted against the quota, purged for good at PurgeAt.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	DeletedBy string     `json:"deleted_by,omitempty"`
	PurgeAt   *time.Time `json:"purge_at,omitempty"`
	// Grants are the document's grants, active or not. They travel with
	// the document (the cache holds them, so deciding a read costs no
	// query) but are not part of its JSON: GET .../grants answers them.
	Grants []Grant `json:"-"`
}

// Version is one stored content of a document.
type Version struct {
	DocumentID string    `json:"-"`
	Version    int       `json:"version"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	Mime       string    `json:"mime"`
	Filename   string    `json:"filename"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// Actor is the caller as the document rules see it. The zero Actor is an
// anonymous reader.
type Actor struct {
	UserID       string
	DepartmentID string
	// Departments is DepartmentID followed by its ancestors, for grants to
	// a parent department (accounts resolves it; nil means DepartmentID only).
	Departments []string
	Admin       bool
	DeptAdmin   bool
	Reader      bool // the reader role: every permission capped at read
}

// Anonymous reports whether nobody is signed in.
func (a Actor) Anonymous() bool { return a.UserID == "" }

// The errors of the document domain that callers match with errors.Is, all
// of the one vocabulary (package errs); their messages are what the caller
// is told. Bad input is an errs.BadRequest error with its own message.
var (
	// ErrNotFound: no such document, or the actor may not read it (no
	// existence leak). Repositories return it for a missing row.
	ErrNotFound = errs.New(errs.NotFound, "document not found")
	// ErrForbidden: the actor may read the document but not do this to it.
	ErrForbidden = errs.New(errs.Forbidden, "you are not allowed to do this")
	// ErrUnauthorized: the action needs a signed-in actor.
	ErrUnauthorized = errs.New(errs.Unauthorized, "sign in first (Authorization: Bearer <token> or the session cookie)")
	// ErrTooLarge: the content exceeds the upload size limit.
	ErrTooLarge = errs.New(errs.TooLarge, "the upload exceeds the size limit")
	// ErrUnsupportedType: the content's type is off the allow-list.
	ErrUnsupportedType = errs.New(errs.UnsupportedType, "this file type is not allowed (allowed: text, Markdown, HTML, CSV, JSON, PDF, images, Office and OpenDocument files, zip)")
	// ErrPrecondition: the document changed since the writer read it.
	ErrPrecondition = errs.New(errs.PreconditionFailed, "the document has changed (If-Match does not match)")
	// ErrQuota: the department's storage quota would be exceeded.
	ErrQuota = errs.New(errs.QuotaExceeded, "the department's storage quota would be exceeded")
)

// QuotaError is ErrQuota with the figures of the refusal: which usage
// bucket (a department id or NoDepartment), its quota and the size that did
// not fit, so that the caller can be told how far over it is.
// errors.Is(err, ErrQuota) holds for it.
type QuotaError struct {
	DepartmentID string
	QuotaBytes   int64
	Size         int64
}

func (e *QuotaError) Error() string { return ErrQuota.Error() }

// Unwrap is ErrQuota, which carries the code and the message.
func (e *QuotaError) Unwrap() error { return ErrQuota }

// invalid is bad input, with a message meant for the caller.
func invalid(format string, args ...any) error {
	return errs.Errorf(errs.BadRequest, format, args...)
}

// Sort orders a listing.
type Sort string

const (
	SortRelevance Sort = "relevance"
	SortCreated   Sort = "created_at"
	SortViews     Sort = "views"
)

// Query selects documents. Terms are already parsed and validated search terms.
type Query struct {
	Terms        []string
	Tag          string
	OwnerID      string
	DepartmentID string
	Sort         Sort
	Page, Size   int
	// At is the time the read rule is decided at (grants' expiries,
	// publication times): the service's clock, so that one clock decides
	// a listing as it decides a read. Zero: the store's own.
	At time.Time
}

// Counts are access counters to add to a document.
type Counts struct{ Views, Downloads int64 }

// NewContent is content that is durable in the blob store's staging area.
// The three-phase commit's prepare step publishes the staged file (Staged)
// at its final path after locking the blob's row, so that a garbage
// collector cannot remove the file between publication and commit.
type NewContent struct {
	Version Version
	// Text is indexed as the body with the content, TextState ready:
	// plain text read in the upload (extractsInline). Other contents leave
	// it empty with TextState pending (a job extracts it, ExtractText) or
	// none. Empty TextState means ready.
	Text      string
	TextState TextState
	// PreviewState is where its page previews start: pending for a type
	// with pages (a job makes them), none otherwise.
	PreviewState PreviewState
	Staged       string // the staged file's temp name
}

// Repository persists documents: a Store, and the content changes, which
// have one path only, the three-phase commit across the document and stats
// services (WithThreePhaseCommit). Check functions see the current row and
// may veto.
type Repository interface {
	Store
	// Create stores a new document and its first version, charging its size
	// to the department's quota (ErrQuota when it would be exceeded).
	Create(ctx context.Context, d Document, c NewContent) error
	// AddVersion makes c the document's current content (version+1).
	AddVersion(ctx context.Context, id string, check func(Document) error, c NewContent) (Document, error)
	// Trash moves the document to the trash as mark says (revision+1);
	// its bytes stay counted.
	Trash(ctx context.Context, id string, check func(Document) error, mark TrashMark) error
	// Restore takes a trashed document out of the trash (revision+1).
	Restore(ctx context.Context, id string, check func(Document) error) (Document, error)
	// Delete removes the document and all its versions for good (the
	// purge of a trashed document) and returns the department's quota.
	Delete(ctx context.Context, id string, check func(Document) error) error
}

// Store is what the document database answers by itself: reads, metadata
// changes, counters and garbage collection. Content changes are not its:
// they span the stats service (Repository).
type Store interface {
	Get(ctx context.Context, id string) (Document, error)
	// Get returns the document with its grants. UpdateMeta applies change
	// to the current row and grants (revision+1).
	UpdateMeta(ctx context.Context, id string, check func(Document) error, change func(*Document)) (Document, error)
	Versions(ctx context.Context, id string) ([]Version, error)
	Version(ctx context.Context, id string, n int) (Version, error)
	// List returns the documents actor may read that match q.
	List(ctx context.Context, actor Actor, q Query) ([]Document, int64, error)
	// AddCounts adds access counters, one statement per document.
	AddCounts(ctx context.Context, counts map[string]Counts) error
	// CollectBlob forgets blob sha when no version references it and it was
	// last used before cutoff; remove deletes the file while the blob's row
	// is still locked. It reports whether the blob was collected.
	CollectBlob(ctx context.Context, sha string, cutoff time.Time, remove func() error) (bool, error)
	// PurgeSearchOrphans removes index entries whose document is gone.
	PurgeSearchOrphans(ctx context.Context) (int64, error)
	// Usage is the bytes of all of a document's versions.
	Usage(ctx context.Context, id string) (int64, error)
	// DepartmentQuota is a department's quota in bytes (0: unlimited).
	DepartmentQuota(ctx context.Context, dept string) (int64, error)
	// SetText records an extraction's outcome (the body in the search
	// index, the state; the revision stays, see Fence) if the document's current content is
	// still the one extracted and its text still pending; otherwise it
	// changes nothing and answers ErrTextStale.
	SetText(ctx context.Context, id string, r TextResult) (Document, error)
	// SetPreviewState records that the previews of a document's content
	// sha are made (PreviewDone) or failed for good (PreviewFailed, with
	// reason), if sha is still its current content and its previews still
	// pending; otherwise it changes nothing (no error). No revision: the
	// state is the sweep's bookkeeping, not part of the document.
	SetPreviewState(ctx context.Context, id, sha string, state PreviewState, reason string) error
	// ClaimPendingPreviews is ClaimPendingText for the previews.
	ClaimPendingPreviews(ctx context.Context, before, now time.Time, limit int) ([]Document, error)
	// ClaimPendingText returns up to limit documents whose text has been
	// pending since before `before`, marking each as enqueued at now
	// (one caller claims a document, whatever the instances sweeping).
	ClaimPendingText(ctx context.Context, before, now time.Time, limit int) ([]Document, error)
	// ListTrash returns the trashed documents scope covers, newest
	// deletion first (ownerID, when set, narrows to one owner).
	ListTrash(ctx context.Context, scope TrashScope, ownerID string, page, size int) ([]Document, int64, error)
	// ExpiredTrash returns up to limit ids of trashed documents whose
	// PurgeAt is at or before now, oldest first.
	ExpiredTrash(ctx context.Context, now time.Time, limit int) ([]string, error)
	// NextPublication is the earliest PublishAt after after, of any
	// document (ok false: none is scheduled): a cached search result
	// computed before it must not be answered after it.
	NextPublication(ctx context.Context, after time.Time) (at time.Time, ok bool, err error)
	// Scheduled returns the documents whose PublishAt or LectureAt lies in
	// [from, to], with their ID, Size, PublishAt and LectureAt only.
	Scheduled(ctx context.Context, from, to time.Time) ([]Document, error)
	// MissingPrincipals returns the grant principals (user:ID,
	// department:ID) that name no user or department.
	MissingPrincipals(ctx context.Context, principals []string) ([]string, error)
}
