package docs

import "context"

// Patch changes metadata; nil fields stay as they are.
type Patch struct {
	Title       *string
	Description *string
	Tags        *[]string
	Visibility  *Visibility
}

// Update applies a metadata patch under the If-Match precondition.
// Errors: ErrUnauthorized (anonymous), errs.BadRequest (an invalid field),
// ErrNotFound (as Get), ErrForbidden (readable, not writable),
// ErrPrecondition (If-Match no longer holds), ErrUnavailable.
func (s *Service) Update(ctx context.Context, actor Actor, id string, ifMatch Precondition, p Patch) (Document, error) {
	if actor.Anonymous() {
		return Document{}, ErrUnauthorized
	}
	var title, desc string
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
	// Visibility says who may read: like grants, it is the managers' to change.
	need := PermWrite
	if p.Visibility != nil {
		need = PermManage
	}
	return s.repo.UpdateMeta(ctx, id, func(cur Document) error {
		if err := s.check(actor, cur, need); err != nil {
			return err
		}
		return ifMatch.check(cur)
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
	})
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

// Delete removes a document and all its versions under the If-Match
// precondition; blobs no longer referenced are collected later. Errors:
// ErrUnauthorized, ErrNotFound, ErrForbidden, ErrPrecondition, and those of
// a write (see Create).
func (s *Service) Delete(ctx context.Context, actor Actor, id string, ifMatch Precondition) error {
	if actor.Anonymous() {
		return ErrUnauthorized
	}
	err := s.repo.Delete(ctx, id, func(cur Document) error {
		if err := s.check(actor, cur, PermManage); err != nil {
			return err
		}
		return ifMatch.check(cur)
	})
	if err == nil {
		s.log.InfoContext(ctx, "document deleted", "document_id", id, "actor_id", actor.UserID)
	}
	return err
}
