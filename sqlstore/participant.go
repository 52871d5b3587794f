package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"docplat/audit"
	"docplat/blob"
	"docplat/docs"
	"docplat/idempotency"
	"docplat/internal/failpoint"
	"docplat/txn"
)

// DocsParticipant is the document service's three-phase-commit participant.
// Prepare makes the content durable and checks the document is as the
// writer saw it; Commit writes the rows. Quota is the stats participant's
// vote, so Commit only keeps the departments table's usage copy in step.
type DocsParticipant struct {
	docs  *Documents
	blobs *blob.Store
}

// DocsParticipant returns the participant handler over blobs.
func (db *DB) DocsParticipant(blobs *blob.Store) *DocsParticipant {
	return &DocsParticipant{docs: db.Documents(), blobs: blobs}
}

var _ txn.Handler = (*DocsParticipant)(nil)

func decodeChange(payload []byte) (docs.DocumentChange, error) {
	var c docs.DocumentChange
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, fmt.Errorf("documents participant: bad payload: %w", err)
	}
	return c, nil
}

// current locks and returns the document's row (nil if gone).
func (p *DocsParticipant) current(tx *gorm.DB, id string) (*docs.Document, error) {
	q := tx
	if p.docs.db.name == "mysql" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var r documentRow
	if err := q.Where("id = ?", id).Take(&r).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	tags, err := loadTags(tx, id)
	if err != nil {
		return nil, err
	}
	d := r.document(tags)
	return &d, nil
}

func (p *DocsParticipant) Prepare(_ context.Context, tx *gorm.DB, _ string, payload []byte) error {
	c, err := decodeChange(payload)
	if err != nil {
		return err
	}
	if c.Op != docs.OpCreate {
		cur, err := p.current(tx, c.Document.ID)
		if err != nil {
			return err
		}
		if cur == nil {
			return &txn.VoteNo{Reason: txn.ReasonNotFound}
		}
		if cur.Revision != c.ExpectRevision {
			return &txn.VoteNo{Reason: txn.ReasonConflict}
		}
	}
	if c.UploadLink != nil && c.Op == docs.OpCreate {
		if err := reserveUploadLink(tx, *c.UploadLink, time.Now().UTC()); err != nil {
			return err
		}
	}
	if c.Version == nil {
		return nil
	}
	// The content becomes durable and visible now: a blob row (locked) and
	// the published file. If the transaction aborts, it is unreferenced
	// and the garbage collector removes it.
	if err := p.docs.db.dialect.touchBlob(tx, c.Version.SHA256, c.Version.Size, c.Version.CreatedAt); err != nil {
		return err
	}
	if err := p.blobs.PublishStaged(c.Staged, c.Version.SHA256); err != nil {
		return err
	}
	return failpoint.Inject(failpoint.DocsAfterPublish, p.docs.db)
}

func (p *DocsParticipant) Commit(ctx context.Context, tx *gorm.DB, txid string, payload []byte) error {
	c, err := decodeChange(payload)
	if err != nil {
		return err
	}
	entry, err := p.apply(ctx, tx, c)
	if err != nil {
		return err
	}
	if entry != nil {
		// With the change, in its transaction: a committed change always
		// has its entry, and recovery re-running the commit writes it once.
		if c.Origin != nil {
			entry.ActorID, entry.IP = c.Origin.ActorID, c.Origin.IP
		}
		if err := audit.Record(tx, *entry); err != nil {
			return err
		}
		if c.UploadLink != nil && c.Op == docs.OpCreate {
			// The same upload as the upload link's use: the link's creator
			// sees who uploaded what through it (an anonymous IP).
			use := audit.Entry{Action: audit.UploadLinkUse, Target: c.UploadLink.ID, ActorID: entry.ActorID, IP: entry.IP,
				DepartmentID: entry.DepartmentID, Detail: map[string]any{"document_id": c.Document.ID, "size": c.Version.Size}}
			if err := audit.Record(tx, use); err != nil {
				return err
			}
		}
	}
	if ref := c.Idempotency; ref != nil {
		// With the change, in its transaction: a retry under this key can
		// never run the write again, whatever happens to the answer.
		return idempotency.MarkCommitted(tx, ref.UserID, ref.Key, c.Document.ID, ref.Fingerprint)
	}
	return nil
}

// apply writes the change's rows and returns the audit entry it makes
// (nil when there was nothing to change).
func (p *DocsParticipant) apply(_ context.Context, tx *gorm.DB, c docs.DocumentChange) (*audit.Entry, error) {
	switch c.Op {
	case docs.OpCreate:
		// The usage update goes first: it takes the department row's
		// exclusive lock before the inserts' foreign-key checks take a shared
		// one (the other order deadlocks concurrent uploads on InnoDB).
		if err := adjustUsage(tx, c.Document.DepartmentID, c.Version.Size); err != nil {
			return nil, err
		}
		d := c.Document
		d.TextState = textStateOr(c.TextState)
		if err := p.docs.insertDocument(tx, d, *c.Version, c.Text, c.PreviewState); err != nil {
			return nil, err
		}
		return &audit.Entry{Action: audit.DocumentCreate, Target: c.Document.ID, DepartmentID: c.Document.DepartmentID,
			Detail: map[string]any{"title": c.Document.Title, "visibility": c.Document.Visibility, "size": c.Version.Size, "sha256": c.Version.SHA256}}, nil
	case docs.OpVersion:
		cur, err := p.current(tx, c.Document.ID)
		if err != nil || cur == nil {
			return nil, errors.Join(err, errors.New("documents participant: document vanished after it voted yes"))
		}
		if err := adjustUsage(tx, cur.DepartmentID, c.Version.Size); err != nil {
			return nil, err
		}
		d, err := p.docs.appendVersion(tx, *cur, *c.Version, c.Text, c.TextState, c.PreviewState)
		if err != nil {
			return nil, err
		}
		return &audit.Entry{Action: audit.DocumentVersion, Target: d.ID, DepartmentID: d.DepartmentID,
			Detail: map[string]any{"version": d.Version, "size": c.Version.Size, "sha256": c.Version.SHA256}}, nil
	case docs.OpDelete:
		cur, err := p.current(tx, c.Document.ID)
		if err != nil || cur == nil {
			return nil, err // already gone: nothing to do
		}
		used, err := p.docs.removeDocument(tx, cur.ID)
		if err != nil {
			return nil, err
		}
		if err := adjustUsage(tx, cur.DepartmentID, -used); err != nil {
			return nil, err
		}
		return &audit.Entry{Action: audit.DocumentPurge, Target: cur.ID, DepartmentID: cur.DepartmentID,
			Detail: map[string]any{"title": cur.Title, "owner_id": cur.OwnerID, "bytes": used}}, nil
	case docs.OpTrash:
		cur, err := p.current(tx, c.Document.ID)
		if err != nil || cur == nil || cur.Trashed() || c.Trash == nil {
			return nil, err // gone or already trashed: nothing to do
		}
		if err := p.docs.trash(tx, *cur, *c.Trash); err != nil {
			return nil, err
		}
		return &audit.Entry{Action: audit.DocumentTrash, Target: cur.ID, DepartmentID: cur.DepartmentID,
			Detail: map[string]any{"title": cur.Title, "owner_id": cur.OwnerID, "purge_at": c.Trash.PurgeAt}}, nil
	case docs.OpRestore:
		cur, err := p.current(tx, c.Document.ID)
		if err != nil || cur == nil || !cur.Trashed() {
			return nil, err // gone or already restored: nothing to do
		}
		if err := p.docs.restore(tx, *cur); err != nil {
			return nil, err
		}
		return &audit.Entry{Action: audit.DocumentRestore, Target: cur.ID, DepartmentID: cur.DepartmentID,
			Detail: map[string]any{"title": cur.Title, "owner_id": cur.OwnerID, "deleted_at": cur.DeletedAt, "deleted_by": cur.DeletedBy}}, nil
	}
	return nil, fmt.Errorf("documents participant: unknown operation %q", c.Op)
}

// Abort releases an upload link's reservation; a published blob nobody
// references is collected after the grace period.
func (p *DocsParticipant) Abort(_ context.Context, tx *gorm.DB, _ string, payload []byte) error {
	c, err := decodeChange(payload)
	if err != nil || c.UploadLink == nil || c.Op != docs.OpCreate {
		return err
	}
	return releaseUploadLink(tx, *c.UploadLink)
}

// adjustUsage keeps departments.bytes_used (shown by the admin API) in step
// with committed changes; the quota itself is enforced by the stats vote.
func adjustUsage(tx *gorm.DB, dept string, delta int64) error {
	if dept == "" || delta == 0 {
		return nil
	}
	return tx.Exec(`UPDATE departments SET bytes_used = CASE WHEN bytes_used + ? < 0 THEN 0 ELSE bytes_used + ? END WHERE id = ?`,
		delta, delta, dept).Error
}

// Gorm exposes the database handle to the transaction engine.
func (db *DB) Gorm() *gorm.DB { return db.gorm }
