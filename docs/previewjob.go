package docs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"docplat/blob"
	"docplat/errs"
	"docplat/jobs"
)

// JobPreview is the kind of the jobs that make a content's page previews
// (PDF, Office files, images), off the request path.
const JobPreview = "preview"

// PreviewFunc makes the previews of the content sha (of type mime and
// size bytes, read from body: a blob.Object, whose blob.LocalPath a
// converter may use), or does nothing when they exist: identical
// contents share them (preview.Service.Generate, adapted where it is
// wired). An errs.Unprocessable error is the file's fault, recorded by it
// and not worth a retry; any other is retried.
type PreviewFunc func(ctx context.Context, sha, mime string, size int64, body blob.Object) error

// PreviewState is where the page previews of a document's current
// content stand (the row's, for the sweep: the previews themselves say
// what a reader is shown).
type PreviewState string

const (
	PreviewPending PreviewState = "pending" // a job is to make them
	PreviewDone    PreviewState = "done"    // the job ran (made, or nothing to make here)
	PreviewFailed  PreviewState = "failed"  // the job failed for good (the reason in the row and the preview)
	PreviewNone    PreviewState = "none"    // a type without page previews
)

// PreviewGaveUpFunc records that the previews of content sha (of type
// mime) could not be
// made after every attempt, for a reason that is not the file's (the
// converter, the disk), so that readers are told so instead of pending
// (preview.Service.GiveUp where it is wired).
type PreviewGaveUpFunc func(ctx context.Context, sha, mime, reason string) error

// previewStateOf is the state a new content's previews start in.
func (s *Service) previewStateOf(mime string) PreviewState {
	if s.opt.HasPreview != nil && s.opt.HasPreview(mime) {
		return PreviewPending
	}
	return PreviewNone
}

// enqueuePreview enqueues the previews of d's current content, after its
// commit, for the types that have page previews. A failure is only
// logged: the row says pending, and the sweep enqueues it again
// (SweepPendingPreviews).
func (s *Service) enqueuePreview(ctx context.Context, d Document) {
	if s.opt.Jobs == nil || s.previewStateOf(d.Mime) != PreviewPending {
		return
	}
	if err := s.opt.Jobs.Enqueue(ctx, previewJob(d, s.now())); err != nil {
		s.log.WarnContext(ctx, "preview generation not enqueued", "document_id", d.ID, "version", d.Version, "err", err)
	}
}

func previewJob(d Document, now time.Time) jobs.Job {
	return jobs.Job{Kind: JobPreview, DocumentID: d.ID, Version: d.Version, SHA256: d.SHA256, Mime: d.Mime, EnqueuedAt: now}
}

// PreviewKind is the worker side of the preview jobs.
func (s *Service) PreviewKind() jobs.Kind {
	return jobs.Kind{Handle: s.MakePreviews, Failed: s.previewsFailed}
}

// MakePreviews is a preview job: it makes the previews of the job's
// content. Unlike the text, previews belong to the content, not to the
// document's current version: an older version's are still shown at its
// own URL, so a late job still makes them.
func (s *Service) MakePreviews(ctx context.Context, j jobs.Job) error {
	if s.opt.Preview == nil {
		return jobs.Permanent(errors.New("this process makes no previews"))
	}
	f, err := s.blobs.Open(j.SHA256)
	if errors.Is(err, blob.ErrNotFound) {
		return nil // collected with its document and versions: nothing to preview
	}
	if err != nil {
		return fmt.Errorf("opening the content of %s: %w", j.DocumentID, err)
	}
	defer f.Close()
	start := time.Now()
	err = s.opt.Preview(ctx, j.SHA256, j.Mime, f.Size(), f)
	switch {
	case errs.CodeOf(err) == errs.Unprocessable:
		// Damaged, protected, a bomb, past its bounds: recorded by
		// Generate (the preview answers 422); the same bytes fail again.
		return jobs.Permanent(err)
	case err != nil:
		return err
	}
	s.log.InfoContext(ctx, "document previews made", "document_id", j.DocumentID, "version", j.Version, "sha256", j.SHA256, "took", time.Since(start))
	return s.repo.SetPreviewState(ctx, j.DocumentID, j.SHA256, PreviewDone, "")
}

// previewsFailed ends a preview job that failed for good in a final
// state: the file's fault (errs.Unprocessable) has been recorded by the
// generator itself; any other (the converter, the disk, after every
// retry) is recorded here, so that the preview answers failed with its
// reason instead of pending for ever. Either way the row says failed.
func (s *Service) previewsFailed(ctx context.Context, j jobs.Job, reason error) error {
	s.log.WarnContext(ctx, "document previews not made", "document_id", j.DocumentID, "version", j.Version, "sha256", j.SHA256, "err", reason)
	if errs.CodeOf(reason) != errs.Unprocessable && s.opt.PreviewGaveUp != nil {
		if err := s.opt.PreviewGaveUp(ctx, j.SHA256, j.Mime, reason.Error()); err != nil {
			return err
		}
	}
	return s.repo.SetPreviewState(ctx, j.DocumentID, j.SHA256, PreviewFailed, reason.Error())
}

// SweepPendingPreviews enqueues again the preview jobs of documents whose
// previews have been pending for longer than olderThan: a job lost
// between a commit and Kafka, or a content stored before previews had a
// state (migration 00190 makes those pending and due at once; a job
// whose previews exist finishes at once). Each is claimed by a
// conditional update, so that of several instances sweeping one enqueues
// it. It returns how many it enqueued.
func (s *Service) SweepPendingPreviews(ctx context.Context, olderThan time.Duration) (int, error) {
	if s.opt.Jobs == nil || s.opt.Preview == nil {
		return 0, nil
	}
	now := s.now()
	n := 0
	for {
		ds, err := s.repo.ClaimPendingPreviews(ctx, now.Add(-olderThan), now, 100)
		if err != nil {
			return n, err
		}
		for _, d := range ds {
			if err := s.opt.Jobs.Enqueue(ctx, previewJob(d, now)); err != nil {
				return n, err // claimed, not enqueued: the next sweep after olderThan
			}
			n++
		}
		if len(ds) < 100 {
			return n, nil
		}
	}
}
