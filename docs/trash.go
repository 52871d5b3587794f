package docs

import (
	"context"
	"errors"
	"time"

	"docplat/errs"
)

// The trash: DELETE moves a document to its owner's trash; it stays there,
// invisible to every read and still counted against its department's
// quota, for the retention (Options.TrashRetention), during which those
// MayManageTrashed allows may restore it or purge it at once; then the
// purge job removes it for good and the garbage collector its blobs.
// Trash, restore and purge are each one three-phase commit (the purge is
// the one that returns the quota) and bump the revision, which fences
// every cache level and the nginx hot tier.

// TrashMark is what moving a document to the trash records.
type TrashMark struct {
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	PurgeAt time.Time `json:"purge_at"`
}

// Trashed reports whether d is in the trash.
func (d Document) Trashed() bool { return d.DeletedAt != nil }

// ErrNotTrashed: a restore of a document that is not in the trash.
var ErrNotTrashed = errs.New(errs.Conflict, "the document is not in the trash")

// ErrNotInTrash: the trash holds no such document for the caller (never
// trashed, restored, purged, or someone else's).
var ErrNotInTrash = errs.New(errs.NotFound, "no such document in the trash")

// DefaultTrashRetention is how long a trashed document stays restorable
// unless configured otherwise.
const DefaultTrashRetention = 720 * time.Hour

// Delete moves a document to its owner's trash under the If-Match
// precondition (manage permission). Errors: ErrUnauthorized, ErrNotFound
// (also for a document already in the trash), ErrForbidden,
// ErrPrecondition, and those of a write (see Create).
func (s *Service) Delete(ctx context.Context, actor Actor, id string, ifMatch Precondition) error {
	if actor.Anonymous() {
		return ErrUnauthorized
	}
	now := s.now()
	mark := TrashMark{At: now, By: actor.UserID, PurgeAt: now.Add(s.opt.TrashRetention)}
	err := s.repo.Trash(ctx, id, func(cur Document) error {
		if err := s.check(actor, cur, PermManage); err != nil {
			return err
		}
		return ifMatch.check(cur)
	}, mark)
	if err == nil {
		s.log.InfoContext(ctx, "document moved to the trash", "document_id", id, "actor_id", actor.UserID, "purge_at", mark.PurgeAt)
	}
	return err
}

// checkTrashed lets actor restore or purge cur: ErrNotInTrash unless cur
// is trashed and MayManageTrashed allows it (no existence leak); for a
// document that is not trashed, notTrashed when the actor may read it.
func (s *Service) checkTrashed(actor Actor, cur Document, notTrashed error) error {
	if !cur.Trashed() {
		if s.permission(actor, cur) >= PermRead {
			return notTrashed
		}
		return ErrNotInTrash
	}
	if !MayManageTrashed(actor, cur) {
		return ErrNotInTrash
	}
	return nil
}

// Restore takes a document out of the trash, visible again as it was (its
// revision bumped, so every cache and read token of before is fenced).
// Errors: ErrUnauthorized, ErrNotInTrash (not trashed and not readable, or
// not the actor's to restore), ErrNotTrashed (409: readable, not trashed),
// ErrPrecondition (changed meanwhile), and those of a write.
func (s *Service) Restore(ctx context.Context, actor Actor, id string) (Document, error) {
	if actor.Anonymous() {
		return Document{}, ErrUnauthorized
	}
	d, err := s.repo.Restore(ctx, id, func(cur Document) error { return s.checkTrashed(actor, cur, ErrNotTrashed) })
	if errors.Is(err, ErrNotFound) {
		err = ErrNotInTrash
	}
	if err == nil {
		s.log.InfoContext(ctx, "document restored from the trash", "document_id", id, "actor_id", actor.UserID)
	}
	return d, err
}

// Purge removes a trashed document for good now, returning its bytes to
// the quota; its blobs are collected by the garbage collector. Errors:
// ErrUnauthorized, ErrNotInTrash (also for a document that is not in the
// trash), ErrPrecondition, and those of a write.
func (s *Service) Purge(ctx context.Context, actor Actor, id string) error {
	if actor.Anonymous() {
		return ErrUnauthorized
	}
	err := s.repo.Delete(ctx, id, func(cur Document) error { return s.checkTrashed(actor, cur, ErrNotInTrash) })
	if errors.Is(err, ErrNotFound) {
		err = ErrNotInTrash
	}
	if err == nil {
		s.purged.WithLabelValues(purgeRequested).Inc()
		s.log.InfoContext(ctx, "document purged from the trash", "document_id", id, "actor_id", actor.UserID)
	}
	return err
}

// The reasons of docplat_trash_purged_total.
const (
	purgeExpired   = "expired"
	purgeRequested = "requested"
)

// Trash lists the trashed documents actor may manage (TrashScopeOf),
// narrowed to ownerID when given, newest deletion first.
func (s *Service) Trash(ctx context.Context, actor Actor, ownerID string, page, size int) ([]Document, int64, error) {
	if actor.Anonymous() {
		return nil, 0, ErrUnauthorized
	}
	page, size, err := checkPage(page, size)
	if err != nil {
		return nil, 0, err
	}
	return s.repo.ListTrash(ctx, TrashScopeOf(actor), ownerID, page, size)
}

// errNotDue stops a purge of a document that is no longer due (restored,
// or trashed again later) when the job reaches it.
var errNotDue = errors.New("docs: not due for purging")

// purgeBatch bounds the ids one round of the purge job reads at once.
const purgeBatch = 100

// PurgeExpired purges every trashed document whose retention ended at or
// before now and reports how many it purged. Each purge is its own
// three-phase commit under the document's lock and fenced by its revision,
// so instances running it at once purge each document once: the others
// find it gone (or restored) and skip it.
func (s *Service) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	purged := 0
	for {
		ids, err := s.repo.ExpiredTrash(ctx, now, purgeBatch)
		if err != nil {
			return purged, err
		}
		progress := 0
		for _, id := range ids {
			err := s.repo.Delete(ctx, id, func(cur Document) error {
				if !cur.Trashed() || cur.PurgeAt == nil || cur.PurgeAt.After(now) {
					return errNotDue
				}
				return nil
			})
			switch {
			case err == nil:
				purged++
				progress++
				s.purged.WithLabelValues(purgeExpired).Inc()
			case errors.Is(err, errNotDue), errors.Is(err, ErrNotFound), errors.Is(err, ErrPrecondition):
				// Restored, purged by another instance, or changed meanwhile:
				// the next round sees it as it is then.
			default:
				return purged, err
			}
		}
		if len(ids) < purgeBatch || progress == 0 {
			break
		}
	}
	if purged > 0 {
		s.log.InfoContext(ctx, "trash purged", "documents", purged)
	}
	return purged, nil
}

// purgeLockName is the job lock of the periodic purge.
const purgeLockName = "job:trash-purge"

// purgeRound is the periodic purge: one instance at a time when a job lock
// is configured (Options.JobLock). The lock only saves the others the
// work: each document's purge is fenced by its own lock and revision, so
// instances that both run it (a lease lost in a pause, no lock) still purge
// each document once.
func (s *Service) purgeRound(ctx context.Context) {
	if s.opt.JobLock != nil {
		lctx, cancel := context.WithTimeout(ctx, time.Second)
		release, err := s.opt.JobLock(lctx, purgeLockName)
		cancel()
		if err != nil {
			s.log.DebugContext(ctx, "trash purge: another instance holds the job lock, or the lock service is down; skipped this round", "err", err)
			return
		}
		defer release()
	}
	if _, err := s.PurgeExpired(ctx, s.now()); err != nil {
		s.log.WarnContext(ctx, "purging the trash", "err", err)
	}
}
