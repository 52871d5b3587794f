package resumable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"docplat/depfail"
)

// State is where an upload stands.
type State string

const (
	Uploading  State = "uploading"  // bytes are still expected (or all arrived and the finish has not run yet)
	Processing State = "processing" // the finish is running (staging, three-phase commit)
	Done       State = "done"       // the document (or its new version) exists: DocumentID
	Failed     State = "failed"     // refused at the end; Error is the contract's body, the data is gone
)

// record is a row of resumable_uploads.
type record struct {
	ID          string
	UserID      string
	TargetID    *string // a new version of this document; nil: a new document
	IfMatch     string
	Metadata    string // the document's fields, JSON (meta)
	Size        int64
	State       State
	DocumentID  *string
	ErrorStatus int
	ErrorBody   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UpdatedAt   time.Time
}

func (record) TableName() string { return "resumable_uploads" }

// meta is what the upload becomes, from its Upload-Metadata.
type meta struct {
	Filename    string   `json:"filename"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Visibility  string   `json:"visibility,omitempty"`
	PublishAt   string   `json:"publish_at,omitempty"`
	LectureAt   string   `json:"lecture_at,omitempty"`
}

func (r record) meta() meta {
	var m meta
	_ = json.Unmarshal([]byte(r.Metadata), &m)
	return m
}

// Upload is an upload as its owner sees it (GET /api/v1/uploads/{id}).
type Upload struct {
	ID         string          `json:"id"`
	State      State           `json:"state"`
	Size       int64           `json:"size"`
	Offset     int64           `json:"offset"`
	Filename   string          `json:"filename"`
	TargetID   string          `json:"target_document_id,omitempty"`
	DocumentID string          `json:"document_id,omitempty"`
	Error      json.RawMessage `json:"error,omitempty"`
	Status     int             `json:"error_status,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	ExpiresAt  time.Time       `json:"expires_at"`
}

func (s *Service) db2(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// dbErr marks a database failure as a dependency failing (503, not 500).
func dbErr(what string, err error) error {
	return depfail.Wrap("database", fmt.Errorf("resumable: %s: %w", what, err))
}

func (s *Service) load(ctx context.Context, id string) (record, error) {
	var r record
	err := s.db2(ctx).Where("id = ?", id).Take(&r).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return record{}, ErrNotFound
	case err != nil:
		return record{}, dbErr("reading an upload", err)
	}
	return r, nil
}

// setState moves id from one of from to to (with what it ended as);
// false when it was in none of them (another finish moved it).
func (s *Service) setState(ctx context.Context, id string, to State, set map[string]any, from ...State) (bool, error) {
	if set == nil {
		set = map[string]any{}
	}
	set["state"], set["updated_at"] = to, s.now()
	res := s.db.WithContext(context.WithoutCancel(ctx)).Model(&record{}).Where("id = ? AND state IN ?", id, from).Updates(set)
	if res.Error != nil {
		return false, dbErr("updating an upload", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// unfinished counts a user's uploads still expecting bytes.
func (s *Service) unfinished(ctx context.Context, user string) (int64, error) {
	var n int64
	err := s.db2(ctx).Model(&record{}).Where("user_id = ? AND state IN ? AND expires_at > ?", user, []State{Uploading, Processing}, s.now()).Count(&n).Error
	if err != nil {
		return 0, dbErr("counting unfinished uploads", err)
	}
	return n, nil
}
