package docs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"docplat/audit"
	"docplat/errs"
	"docplat/txn"
)

// Answers for a write that was committed, or may yet be, when the caller
// cannot be told it is done (MayHaveCommitted). Neither may be answered as
// "nothing changed". Both are errs.Unavailable: the caller retries with the
// same Idempotency-Key to learn the outcome, never blindly.
var (
	// ErrNotYetReadable: the change is committed and will not be undone,
	// but it could not be made readable (applied in the documents
	// database) within the coordinator's commit wait; recovery applies it.
	ErrNotYetReadable = errs.New(errs.Unavailable, "the change is committed but not readable yet; it will be applied without further action: do not repeat it (a retry with the same Idempotency-Key returns its outcome)")
	// ErrInDoubt: the change was on its way to commit when the answer had
	// to be given; recovery decides it (normally commit).
	ErrInDoubt = errs.New(errs.Unavailable, "the change's outcome is not known yet (it will be decided without further action, normally as done): do not repeat it blindly (a retry with the same Idempotency-Key returns its outcome)")
)

// Coordinator runs a three-phase commit (txn.Coordinator).
type Coordinator interface {
	Execute(ctx context.Context, txid string, branches []txn.Branch) (txn.Outcome, error)
}

// Participant names in branches.
const (
	ParticipantDocuments = "documents"
	ParticipantStats     = "stats"
)

// Operations of a DocumentChange.
const (
	OpCreate  = "create"
	OpVersion = "version"
	OpDelete  = "delete" // the purge: rows removed, quota returned
	OpTrash   = "trash"
	OpRestore = "restore"
)

// DocumentChange is the documents participant's payload.
type DocumentChange struct {
	Op             string   `json:"op"`
	Document       Document `json:"document"`
	ExpectRevision int      `json:"expect_revision,omitempty"`
	Version        *Version `json:"version,omitempty"`
	Text           string   `json:"text,omitempty"`
	// TextState is the new content's (empty: ready, as in the changes
	// recorded before text was extracted off the request path).
	TextState TextState `json:"text_state,omitempty"`
	// PreviewState is the new content's (empty: none, as in the changes
	// recorded before previews had a state).
	PreviewState PreviewState `json:"preview_state,omitempty"`
	Staged       string       `json:"staged,omitempty"` // the staged blob's temp name
	// Trash is what OpTrash records (when, by whom, until when).
	Trash *TrashMark `json:"trash,omitempty"`
	// Idempotency names the client's Idempotency-Key record that the
	// commit marks, in the same local transaction as the change.
	Idempotency *IdempotencyRef `json:"idempotency,omitempty"`
	// Origin is who made the change and from where: the commit records it
	// in the audit log, in the same local transaction as the change.
	Origin *audit.Origin `json:"origin,omitempty"`
	// UploadLink is the upload link a create is charged to (UploadLinkRef).
	UploadLink *UploadLinkRef `json:"upload_link,omitempty"`
}

// IdempotencyRef is a client's Idempotency-Key, scoped to its user, and
// the fingerprint of the request made under it (idempotency.Fingerprint),
// which the commit stores with its mark.
type IdempotencyRef struct {
	UserID      string `json:"user_id"`
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

type idempotencyCtxKey struct{}

// WithIdempotencyKey returns ctx carrying the key the write runs under.
func WithIdempotencyKey(ctx context.Context, ref IdempotencyRef) context.Context {
	return context.WithValue(ctx, idempotencyCtxKey{}, ref)
}

func idempotencyFrom(ctx context.Context) *IdempotencyRef {
	if ref, ok := ctx.Value(idempotencyCtxKey{}).(IdempotencyRef); ok {
		return &ref
	}
	return nil
}

// UsageChange is the stats participant's payload (the stats service reads
// the same JSON; the services share no code).
type UsageChange struct {
	DepartmentID   string `json:"department_id"`
	QuotaBytes     int64  `json:"quota_bytes"`
	DeltaBytes     int64  `json:"delta_bytes"`
	DeltaDocuments int64  `json:"delta_documents"`
	DocumentID     string `json:"document_id"`
}

// threePhaseRepository runs content changes (upload, new version, trash,
// restore, purge)
// as one three-phase-commit transaction across the document service and the
// stats service: a document exists if and only if its bytes are counted in
// its department's usage, and the stats service's quota vote decides.
type threePhaseRepository struct {
	Store
	coord             Coordinator
	noDepartmentQuota int64
}

// NoDepartment is the usage bucket of documents whose owner belongs to no
// department (an administrator, a member not yet placed): their bytes are
// counted and voted on by the stats service like a department's, under
// this name (department ids are 26 characters, so it names none of them),
// against the quota given to WithThreePhaseCommit.
const NoDepartment = "none"

// WithThreePhaseCommit is the Repository over store whose content changes
// go through coord: the only way documents' content is written.
// noDepartmentQuota bounds the NoDepartment bucket in bytes (0: unlimited,
// as for a department).
func WithThreePhaseCommit(store Store, coord Coordinator, noDepartmentQuota int64) Repository {
	return &threePhaseRepository{Store: store, coord: coord, noDepartmentQuota: noDepartmentQuota}
}

func (r *threePhaseRepository) run(ctx context.Context, change DocumentChange, usage UsageChange) error {
	change.Idempotency = idempotencyFrom(ctx)
	if o := audit.OriginFrom(ctx); o != (audit.Origin{}) {
		change.Origin = &o
	}
	docPayload, err := json.Marshal(change)
	if err != nil {
		return err
	}
	if usage.DepartmentID == "" {
		usage.DepartmentID, usage.QuotaBytes = NoDepartment, r.noDepartmentQuota
	} else if usage.QuotaBytes, err = r.DepartmentQuota(ctx, usage.DepartmentID); err != nil {
		return err
	}
	usagePayload, err := json.Marshal(usage)
	if err != nil {
		return err
	}
	branches := []txn.Branch{{Participant: ParticipantDocuments, Payload: docPayload}, {Participant: ParticipantStats, Payload: usagePayload}}
	// Execute answers committed only once the documents participant (the
	// one every instance reads) has applied the change, so the caller reads
	// what it wrote as soon as it is answered (txn.CoordinatorOptions.Synchronous).
	out, err := r.coord.Execute(ctx, "tx-"+NewID(), branches)
	switch {
	case out.Committed && err == nil:
		return nil
	case errors.Is(err, txn.ErrNotApplied):
		return fmt.Errorf("%w: %w", ErrNotYetReadable, err)
	case out.Committed:
		return fmt.Errorf("%w: %w", ErrInDoubt, err)
	case err != nil:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	switch {
	case out.Votes[ParticipantStats].Reason == txn.ReasonQuota:
		return &QuotaError{DepartmentID: usage.DepartmentID, QuotaBytes: usage.QuotaBytes, Size: usage.DeltaBytes}
	case out.Votes[ParticipantDocuments].Reason == txn.ReasonConflict:
		return ErrPrecondition
	case out.Votes[ParticipantDocuments].Reason == txn.ReasonNotFound:
		return ErrNotFound
	case out.Votes[ParticipantDocuments].Reason == ReasonUploadLinkUsedUp:
		return ErrUploadLinkGone
	case out.Votes[ParticipantDocuments].Reason == ReasonUploadLinkBytes:
		return ErrUploadLinkBytes
	}
	return fmt.Errorf("%w: the transaction was aborted (votes %v)", ErrUnavailable, out.Votes)
}

func (r *threePhaseRepository) Create(ctx context.Context, d Document, c NewContent) error {
	v := c.Version
	return r.run(ctx, DocumentChange{Op: OpCreate, Document: d, Version: &v, Text: c.Text, TextState: c.TextState, PreviewState: c.PreviewState, Staged: c.Staged, UploadLink: uploadLinkFrom(ctx)},
		UsageChange{DepartmentID: d.DepartmentID, DeltaBytes: v.Size, DeltaDocuments: 1, DocumentID: d.ID})
}

func (r *threePhaseRepository) AddVersion(ctx context.Context, id string, check func(Document) error, c NewContent) (Document, error) {
	cur, err := r.Store.Get(ctx, id)
	if err != nil {
		return Document{}, err
	}
	if err := check(cur); err != nil {
		return Document{}, err
	}
	v := c.Version
	err = r.run(ctx, DocumentChange{Op: OpVersion, Document: Document{ID: id}, ExpectRevision: cur.Revision, Version: &v, Text: c.Text, TextState: c.TextState, PreviewState: c.PreviewState, Staged: c.Staged},
		UsageChange{DepartmentID: cur.DepartmentID, DeltaBytes: v.Size, DocumentID: id})
	if err != nil {
		return Document{}, err
	}
	return r.committedDocument(ctx, id)
}

// committedDocument reads a document back after its change committed. The
// caller's cancellation no longer matters and a failed read is retried
// briefly: the change happened, so the answer may not become "unavailable,
// nothing changed".
func (r *threePhaseRepository) committedDocument(ctx context.Context, id string) (Document, error) {
	ctx = context.WithoutCancel(ctx)
	var err error
	for delay := 20 * time.Millisecond; delay < 2*time.Second; delay *= 2 {
		var d Document
		if d, err = r.Store.Get(ctx, id); err == nil || errors.Is(err, ErrNotFound) {
			return d, err // not found: deleted meanwhile by another writer
		}
		time.Sleep(delay)
	}
	return Document{}, fmt.Errorf("%w: reading it back: %w", ErrNotYetReadable, err)
}

func (r *threePhaseRepository) Delete(ctx context.Context, id string, check func(Document) error) error {
	cur, err := r.Store.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := check(cur); err != nil {
		return err
	}
	used, err := r.Usage(ctx, id)
	if err != nil {
		return err
	}
	return r.run(ctx, DocumentChange{Op: OpDelete, Document: Document{ID: id}, ExpectRevision: cur.Revision},
		UsageChange{DepartmentID: cur.DepartmentID, DeltaBytes: -used, DeltaDocuments: -1, DocumentID: id})
}

// Trash and Restore change no usage (a trashed document keeps its bytes
// counted until it is purged), but run through the same transaction as
// every content change so that one path writes a document's existence.
func (r *threePhaseRepository) Trash(ctx context.Context, id string, check func(Document) error, mark TrashMark) error {
	cur, err := r.Store.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := check(cur); err != nil {
		return err
	}
	return r.run(ctx, DocumentChange{Op: OpTrash, Document: Document{ID: id}, ExpectRevision: cur.Revision, Trash: &mark},
		UsageChange{DepartmentID: cur.DepartmentID, DocumentID: id})
}

func (r *threePhaseRepository) Restore(ctx context.Context, id string, check func(Document) error) (Document, error) {
	cur, err := r.Store.Get(ctx, id)
	if err != nil {
		return Document{}, err
	}
	if err := check(cur); err != nil {
		return Document{}, err
	}
	err = r.run(ctx, DocumentChange{Op: OpRestore, Document: Document{ID: id}, ExpectRevision: cur.Revision},
		UsageChange{DepartmentID: cur.DepartmentID, DocumentID: id})
	if err != nil {
		return Document{}, err
	}
	return r.committedDocument(ctx, id)
}
