// Package audit owns the audit log: who changed what, when and from where.
// An entry is written by Record with the transaction of the change it
// records, so a committed change always has its entry and a rolled-back one
// never does. Log reads the entries back (filtered, paginated, newest
// first, or as CSV) and purges those older than the retention.
//
// Who acts and from where is known to the HTTP layer only; it puts an
// Origin in the request's context (WithOrigin) and the stores that write
// changes read it from there (OriginFrom), so no domain signature carries it.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"docplat/internal/failpoint"
)

// Action names what an entry records: dotted lowercase, stable (clients
// filter on them).
type Action string

// The actions. Every change of the platform maps to exactly one.
const (
	LoginSucceeded Action = "auth.login"
	LoginFailed    Action = "auth.login_failed" // actor empty, target the normalized username
	Logout         Action = "auth.logout"

	TokenCreate Action = "token.create"
	TokenRevoke Action = "token.revoke"

	DocumentCreate   Action = "document.create"
	DocumentUpdate   Action = "document.update" // metadata
	DocumentVersion  Action = "document.version"
	DocumentDelete   Action = "document.delete" // before the trash (issue 14): removed at once
	DocumentTrash    Action = "document.trash"
	DocumentRestore  Action = "document.restore"
	DocumentPurge    Action = "document.purge" // removed for good, from the trash
	DocumentGrants   Action = "document.grants"
	DocumentDownload Action = "document.download" // of a non-public document, from the access stream

	ShareCreate   Action = "share.create"
	ShareRevoke   Action = "share.revoke"
	ShareDownload Action = "share.download"

	UploadLinkCreate Action = "upload_link.create"
	UploadLinkUse    Action = "upload_link.use"
	UploadLinkRevoke Action = "upload_link.revoke"

	UserCreate Action = "user.create"
	UserUpdate Action = "user.update"
	UserDelete Action = "user.delete"

	DepartmentCreate Action = "department.create"
	DepartmentUpdate Action = "department.update" // quota changes too (old/new in detail)
	DepartmentDelete Action = "department.delete"
)

// Actions lists every action, for validating filters.
var Actions = []Action{
	LoginSucceeded, LoginFailed, Logout, TokenCreate, TokenRevoke,
	DocumentCreate, DocumentUpdate, DocumentVersion, DocumentDelete, DocumentTrash, DocumentRestore, DocumentPurge,
	DocumentGrants, DocumentDownload, ShareCreate, ShareRevoke, ShareDownload, UploadLinkCreate, UploadLinkUse, UploadLinkRevoke,
	UserCreate, UserUpdate, UserDelete, DepartmentCreate, DepartmentUpdate, DepartmentDelete,
}

// Known reports whether a is one of Actions.
func Known(a Action) bool {
	for _, k := range Actions {
		if k == a {
			return true
		}
	}
	return false
}

// Entry is one line of the audit log. DepartmentID is the department the
// entry belongs to for a dept_admin (the target's, else the actor's);
// Detail is free-form (old/new values of an update, a title, a size).
type Entry struct {
	ID           int64          `json:"id"`
	At           time.Time      `json:"at"`
	ActorID      string         `json:"actor_id"`
	Action       Action         `json:"action"`
	Target       string         `json:"target"`
	IP           string         `json:"ip"`
	DepartmentID string         `json:"department_id"`
	Detail       map[string]any `json:"detail,omitempty"`
}

// Change is the detail of an updated field.
type Change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

type row struct {
	ID           int64 `gorm:"primaryKey"`
	At           time.Time
	ActorID      string
	Action       string
	Target       string
	IP           string `gorm:"column:ip"`
	DepartmentID string
	Detail       *string
}

func (row) TableName() string { return "audit_log" }

// Column sizes (the MariaDB schema's); longer values are cut, not refused:
// a change must never fail because its description is long.
const (
	maxActor  = 32
	maxTarget = 200
	maxIP     = 64
)

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func toRow(e Entry) (row, error) {
	if e.Action == "" {
		return row{}, fmt.Errorf("audit: an entry needs an action")
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	r := row{At: e.At.UTC(), ActorID: cut(e.ActorID, maxActor), Action: string(e.Action), Target: cut(e.Target, maxTarget),
		IP: cut(e.IP, maxIP), DepartmentID: cut(e.DepartmentID, maxActor)}
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return row{}, fmt.Errorf("audit: encoding the detail: %w", err)
		}
		s := string(b)
		r.Detail = &s
	}
	return r, nil
}

func (r row) entry() Entry {
	e := Entry{ID: r.ID, At: r.At.UTC(), ActorID: r.ActorID, Action: Action(r.Action), Target: r.Target, IP: r.IP, DepartmentID: r.DepartmentID}
	if r.Detail != nil && *r.Detail != "" {
		// A detail that no longer decodes is shown as its text.
		if err := json.Unmarshal([]byte(*r.Detail), &e.Detail); err != nil {
			e.Detail = map[string]any{"text": *r.Detail}
		}
	}
	return e
}

// Record writes e with tx, the transaction of the change it records (At
// defaults to now).
func Record(tx *gorm.DB, e Entry) error {
	r, err := toRow(e)
	if err != nil {
		return err
	}
	if err := tx.Create(&r).Error; err != nil {
		return err
	}
	return failpoint.Inject(failpoint.AuditAfterRecord, e)
}

// RecordAll writes entries with tx in one statement (the download consumer's batches).
func RecordAll(tx *gorm.DB, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	rows := make([]row, len(entries))
	for i, e := range entries {
		r, err := toRow(e)
		if err != nil {
			return err
		}
		rows[i] = r
	}
	return tx.CreateInBatches(&rows, 500).Error
}

// Origin is who acts and from where, as the HTTP layer knows it.
type Origin struct {
	ActorID string `json:"actor_id,omitempty"`
	IP      string `json:"ip,omitempty"`
}

type originKey struct{}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the Origin in ctx (zero when none: a command-line
// tool, a background job).
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// Entry returns an entry of o.
func (o Origin) Entry(a Action, target, department string, detail map[string]any) Entry {
	return Entry{ActorID: o.ActorID, IP: o.IP, Action: a, Target: target, DepartmentID: department, Detail: detail}
}
