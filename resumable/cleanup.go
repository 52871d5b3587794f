package resumable

import (
	"context"
	"time"

	"docplat/internal/periodic"
)

// keepOutcome is how long a finished upload's record (done or failed)
// stays readable after the upload would have expired.
const keepOutcome = 7 * 24 * time.Hour

// Cleanup removes what expired: unfinished uploads past their expiry (the
// record and the data), outcomes past keepOutcome, and tus files that no
// unfinished upload owns (a crash between creating the record and the
// data, or between settling and removing it). Every step is idempotent,
// so instances may run it at once. It returns the uploads it expired.
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
	if err := s.db2(ctx).Where("state IN ? AND expires_at <= ?", []State{Done, Failed}, now.Add(-keepOutcome)).Delete(&record{}).Error; err != nil {
		return n, dbErr("collecting old upload outcomes", err)
	}
	s.removeOrphans(ctx, now)
	return n, nil
}

// removeOrphans deletes upload data older than the expiry that belongs to
// no upload still expecting bytes.
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
