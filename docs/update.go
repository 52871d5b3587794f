package docs

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Patch changes metadata; nil fields stay as they are.
type Patch struct {
	Title       *string
	Description *string
	Tags        *[]string
	Visibility  *Visibility
	// PublishAt and LectureAt set (RFC 3339) or clear ("") a schedule time
	// when Set.
	PublishAt TimeField
	LectureAt TimeField
}

// errUnchanged stops a write whose patch would leave the document as it is
// before anything is invalidated, purged or committed.
var errUnchanged = errors.New("docs: the patch changes nothing")

// Update applies a metadata patch under the If-Match precondition. A patch
// whose values are the current ones is a no-op: it returns the document
// as it is, without a new revision (which would revoke read tokens) and
// without purging any cache or nginx.
// Errors: ErrUnauthorized (anonymous), errs.BadRequest (an invalid field,
// or no field at all),
// ErrNotFound (as Get), ErrForbidden (readable, not writable),
// ErrPrecondition (If-Match no longer holds), ErrUnavailable.
func (s *Service) Update(ctx context.Context, actor Actor, id string, ifMatch Precondition, p Patch) (Document, error) {
	if actor.Anonymous() {
		return Document{}, ErrUnauthorized
	}
	if p.Title == nil && p.Description == nil && p.Tags == nil && p.Visibility == nil && !p.PublishAt.Set && !p.LectureAt.Set {
		return Document{}, invalid("nothing to change: give at least one of title, description, tags, visibility, publish_at, lecture_at")
	}
	var title, desc string
	var publishAt, lectureAt *time.Time
	var tags []string
	var err error
	if p.Title != nil {
		if title, err = checkTitle(*p.Title); err != nil {
			return Document{}, err
		}
	}
	if p.Description != nil {
		if desc, err = checkDescription(*p.Description); err != nil {
			return Document{}, err
		}
	}
	if p.Tags != nil {
		if tags, err = normalizeTags(*p.Tags); err != nil {
			return Document{}, err
		}
	}
	if p.Visibility != nil {
		if err := checkVisibility(*p.Visibility); err != nil {
			return Document{}, err
		}
	}
	if p.PublishAt.Set {
		if publishAt, err = ParseScheduleTime("publish_at", p.PublishAt.Value, s.now()); err != nil {
			return Document{}, err
		}
	}
	if p.LectureAt.Set {
		if lectureAt, err = ParseScheduleTime("lecture_at", p.LectureAt.Value, s.now()); err != nil {
			return Document{}, err
		}
	}
	// Visibility and the publication time say who may read: like grants,
	// they are the managers' to change.
	need := PermWrite
	if p.Visibility != nil || p.PublishAt.Set {
		need = PermManage
	}
	var current Document
	d, err := s.repo.UpdateMeta(ctx, id, func(cur Document) error {
		if err := s.check(actor, cur, need); err != nil {
			return err
		}
		if err := ifMatch.check(cur); err != nil {
			return err
		}
		if (p.Title == nil || title == cur.Title) && (p.Description == nil || desc == cur.Description) &&
			(p.Tags == nil || slices.Equal(tags, cur.Tags)) && (p.Visibility == nil || *p.Visibility == cur.Visibility) &&
			(!p.PublishAt.Set || sameTime(publishAt, cur.PublishAt)) && (!p.LectureAt.Set || sameTime(lectureAt, cur.LectureAt)) {
			current = cur
			return errUnchanged
		}
		return nil
	}, func(d *Document) {
		if p.Title != nil {
			d.Title = title
		}
		if p.Description != nil {
			d.Description = desc
		}
		if p.Tags != nil {
			d.Tags = tags
		}
		if p.Visibility != nil {
			d.Visibility = *p.Visibility
		}
		if p.PublishAt.Set {
			d.PublishAt = publishAt
		}
		if p.LectureAt.Set {
			d.LectureAt = lectureAt
		}
	})
	if errors.Is(err, errUnchanged) {
		return current, nil
	}
	return d, err
}

// CheckWritable reports early whether actor may replace the document's
// content under ifMatch; the write itself checks again under the row lock.
// Errors as Update's checks: ErrUnauthorized, ErrNotFound, ErrForbidden,
// ErrPrecondition.
func (s *Service) CheckWritable(ctx context.Context, actor Actor, id string, ifMatch Precondition) error {
	if actor.Anonymous() {
		return ErrUnauthorized
	}
	d, err := s.Authorize(ctx, actor, id, PermWrite)
	if err != nil {
		return err
	}
	return ifMatch.check(d)
}

// sameTime reports whether two optional times are equal (both nil, or the
// same instant).
func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}
