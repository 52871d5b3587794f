package resumable

import (
	"context"
	"time"

	"docplat/idempotency"
	"docplat/internal/periodic"
)

// keepOutcome is how long a finished upload's record (done or failed)
// stays readable after the upload would have expired.
const keepOutcome = 7 * 24 * time.Hour

// Cleanup removes what expired: unfinished uploads past their expiry (the
// record and the data), outcomes past keepOutcome, and tus files that no
// unfinished upload owns (a crash between creating the record and the
// data, or between settling and removing it); and it resolves uploads
// left processing past their expiry (resolveStuck). Every step is
// idempotent, so instances may run it at once. It returns the uploads it
// expired or resolved.
func (s *Service) Cleanup(ctx context.Context) (int, error) {
	now := s.now()
	var expired []record
	if err := s.db2(ctx).Where("state = ? AND expires_at <= ?", Uploading, now).Limit(500).Find(&expired).Error; err != nil {
		return 0, dbErr("listing expired uploads", err)
	}
	n := 0
	for _, rec := range expired {
		// Not while a request writes it: its lock is held.
		lctx, cancel := context.WithTimeout(ctx, s.opt.LockWait)
		lease, err := s.locks.Acquire(lctx, "tus:"+rec.ID)
		cancel()
		if err != nil {
			continue
		}
		res := s.db2(ctx).Where("id = ? AND state = ?", rec.ID, Uploading).Delete(&record{})
		if res.Error == nil && res.RowsAffected == 1 {
			s.removeData(ctx, rec.ID)
			s.m.expired.Inc()
			n++
		}
		_ = lease.Release(context.WithoutCancel(ctx))
	}
	var stuck []record
	if err := s.db2(ctx).Where("state = ? AND expires_at <= ?", Processing, now).Limit(500).Find(&stuck).Error; err != nil {
		return n, dbErr("listing uploads left processing", err)
	}
	for _, rec := range stuck {
		if s.resolveStuck(ctx, rec) {
			n++
		}
	}
	if err := s.db2(ctx).Where("state IN ? AND expires_at <= ?", []State{Done, Failed}, now.Add(-keepOutcome)).Delete(&record{}).Error; err != nil {
		return n, dbErr("collecting old upload outcomes", err)
	}
	s.removeOrphans(ctx, now)
	return n, nil
}

// resolveStuck settles an upload left processing past its expiry: its
// finish stopped before it settled (its instance died, or its last
// attempt failed and its owner never asked again). Without an owner to
// finish it for (a write needs the owner's rights, which only their own
// request brings), the upload's claim decides: a committed write makes it
// done with its document; one in flight (a finish running, a commit in
// doubt held by recovery) is left for the next sweep; otherwise nothing
// was written and none can be any more, so it fails as expired, its
// answer recorded under its key (a late GET or retry replays it) and its
// data removed. It reports whether it settled rec.
func (s *Service) resolveStuck(ctx context.Context, rec record) bool {
	if s.refuser == nil {
		return false // the server has not mounted the endpoint yet: the next sweep
	}
	lctx, cancel := context.WithTimeout(ctx, s.opt.LockWait)
	lease, err := s.locks.Acquire(lctx, "tus:"+rec.ID)
	cancel()
	if err != nil {
		return false
	}
	defer func() { _ = lease.Release(context.WithoutCancel(ctx)) }()
	key, request := claimKey(rec.ID)
	claim, err := s.claims.Begin(ctx, rec.UserID, key, request)
	if err != nil {
		s.log.WarnContext(ctx, "resolving an upload left processing (the next cleanup retries)", "upload_id", rec.ID, "err", err)
		return false
	}
	switch claim.Verdict {
	case idempotency.Committed:
		_, err = s.settleDone(ctx, rec, claim.DocumentID)
		if err == nil {
			s.log.InfoContext(ctx, "upload left processing settled as done", "upload_id", rec.ID, "document_id", claim.DocumentID)
		}
		return err == nil
	case idempotency.Run:
	default:
		return false // in flight, or already settled (replay): not this sweep's
	}
	resp := s.refuser(ctx, ErrExpired)
	if err := s.claims.Finish(ctx, rec.UserID, key, "", idempotency.Response{Status: resp.StatusCode,
		Header: map[string]string{"Content-Type": "application/json"}, Body: []byte(resp.Body)}); err != nil {
		_ = s.claims.Release(ctx, rec.UserID, key)
		s.log.WarnContext(ctx, "recording the expiry of an upload left processing (the next cleanup retries)", "upload_id", rec.ID, "err", err)
		return false
	}
	ok, err := s.setState(ctx, rec.ID, Failed, map[string]any{"error_status": resp.StatusCode, "error_body": resp.Body}, Processing)
	if err != nil || !ok {
		return false
	}
	s.removeData(ctx, rec.ID)
	s.m.expired.Inc()
	s.log.InfoContext(ctx, "upload left processing past its expiry failed as expired", "upload_id", rec.ID)
	return true
}

// removeOrphans deletes tus files older than the expiry that belong to no
// upload still expecting bytes.
func (s *Service) removeOrphans(ctx context.Context, now time.Time) {
	live := func(id string) bool {
		var n int64
		err := s.db2(ctx).Model(&record{}).Where("id = ? AND state IN ?", id, []State{Uploading, Processing}).Count(&n).Error
		return err != nil || n > 0
	}
	remove := func(id string) { s.removeData(ctx, id) }
	if err := s.store.sweep(ctx, now.Add(-s.opt.Expiry), live, remove); err != nil {
		s.log.WarnContext(ctx, "sweeping abandoned resumable upload data (the next cleanup retries)", "err", err)
	}
}

// Run cleans up every Options.CleanupEvery until ctx ends.
func (s *Service) Run(ctx context.Context) {
	periodic.Run(ctx, s.opt.CleanupEvery, func(ctx context.Context) {
		if n, err := s.Cleanup(ctx); err != nil {
			s.log.Warn("cleaning up resumable uploads", "err", err)
		} else if n > 0 {
			s.log.Info("expired resumable uploads removed", "count", n)
		}
	})
}
