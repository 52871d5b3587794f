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

// enqueuePreview enqueues the previews of d's current content, after its
// commit, for the types that have page previews. A failure is only
// logged: the content's previews answer pending until a later job (the
// text sweep's, for types with text) makes them.
func (s *Service) enqueuePreview(ctx context.Context, d Document) {
	if s.opt.Jobs == nil || s.opt.HasPreview == nil || !s.opt.HasPreview(d.Mime) {
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
	return nil
}

// previewsFailed: what the file's fault is has been recorded by the
// generator itself; a content whose generation kept failing otherwise
// (the converter, the disk) stays pending, for a later job to make.
func (s *Service) previewsFailed(ctx context.Context, j jobs.Job, reason error) error {
	s.log.WarnContext(ctx, "document previews not made", "document_id", j.DocumentID, "version", j.Version, "sha256", j.SHA256, "err", reason)
	return nil
}
