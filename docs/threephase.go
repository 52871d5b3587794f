package docs

import (
	"context"
	"encoding/json"
	"fmt"

	"docplat/txn"
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
	OpDelete  = "delete"
)

// Reasons the documents participant votes no.
const (
	ReasonConflict = "conflict"  // the document changed since the writer read it
	ReasonNotFound = "not_found" // it was deleted meanwhile
)

// DocumentChange is the documents participant's payload.
type DocumentChange struct {
	Op             string   `json:"op"`
	Document       Document `json:"document"`
	ExpectRevision int      `json:"expect_revision,omitempty"`
	Version        *Version `json:"version,omitempty"`
	Text           string   `json:"text,omitempty"`
	Staged         string   `json:"staged,omitempty"` // the staged blob's temp name
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

// threePhaseRepository runs content changes (upload, new version, delete)
// as one three-phase-commit transaction across the document service and the
// stats service: a document exists if and only if its bytes are counted in
// its department's usage, and the stats service's quota vote decides.
type threePhaseRepository struct {
	Repository
	coord Coordinator
}

// WithThreePhaseCommit decorates repo so that content changes go through coord.
func WithThreePhaseCommit(repo Repository, coord Coordinator) Repository {
	return &threePhaseRepository{Repository: repo, coord: coord}
}

func (r *threePhaseRepository) run(ctx context.Context, change DocumentChange, usage UsageChange) error {
	docPayload, err := json.Marshal(change)
	if err != nil {
		return err
	}
	branches := []txn.Branch{{Participant: ParticipantDocuments, Payload: docPayload}}
	if usage.DepartmentID != "" {
		if usage.QuotaBytes, err = r.DepartmentQuota(ctx, usage.DepartmentID); err != nil {
			return err
		}
		p, err := json.Marshal(usage)
		if err != nil {
			return err
		}
		branches = append(branches, txn.Branch{Participant: ParticipantStats, Payload: p})
	}
	out, err := r.coord.Execute(ctx, "tx-"+NewID(), branches)
	if err != nil && !out.Committed {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if out.Committed {
		return nil
	}
	switch {
	case out.Votes[ParticipantStats].Reason == "quota":
		return ErrQuota
	case out.Votes[ParticipantDocuments].Reason == ReasonConflict:
		return ErrPrecondition
	case out.Votes[ParticipantDocuments].Reason == ReasonNotFound:
		return ErrNotFound
	}
	return fmt.Errorf("%w: the transaction was aborted (votes %v)", ErrUnavailable, out.Votes)
}

func (r *threePhaseRepository) Create(ctx context.Context, d Document, c NewContent) error {
	v := c.Version
	return r.run(ctx, DocumentChange{Op: OpCreate, Document: d, Version: &v, Text: c.Text, Staged: c.Staged},
		UsageChange{DepartmentID: d.DepartmentID, DeltaBytes: v.Size, DeltaDocuments: 1, DocumentID: d.ID})
}

func (r *threePhaseRepository) AddVersion(ctx context.Context, id string, check func(Document) error, c NewContent) (Document, error) {
	cur, err := r.Repository.Get(ctx, id)
	if err != nil {
		return Document{}, err
	}
	if err := check(cur); err != nil {
		return Document{}, err
	}
	v := c.Version
	err = r.run(ctx, DocumentChange{Op: OpVersion, Document: Document{ID: id}, ExpectRevision: cur.Revision, Version: &v, Text: c.Text, Staged: c.Staged},
		UsageChange{DepartmentID: cur.DepartmentID, DeltaBytes: v.Size, DocumentID: id})
	if err != nil {
		return Document{}, err
	}
	return r.Repository.Get(ctx, id)
}

func (r *threePhaseRepository) Delete(ctx context.Context, id string, check func(Document) error) error {
	cur, err := r.Repository.Get(ctx, id)
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
