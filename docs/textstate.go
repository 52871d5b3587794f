package docs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"docplat/blob"
	"docplat/errs"
	"docplat/extract"
	"docplat/internal/failpoint"
	"docplat/jobs"
)

// TextState is where a document's text for search stands.
type TextState string

const (
	TextPending TextState = "pending" // enqueued for extraction; the body is not searchable yet
	TextReady   TextState = "ready"   // the body is in the search index
	TextFailed  TextState = "failed"  // extraction failed for good (the reason is in the database)
	TextNone    TextState = "none"    // a type with no text to extract
)

// JobExtract is the kind of the jobs that extract a content's text.
const JobExtract = "extract"

// ErrTextStale: an extraction's outcome is for a content that is no
// longer current, or a text no longer pending (a late or duplicate job).
var ErrTextStale = errors.New("docs: the extracted text is for a content that is no longer current")

// TextResult is an extraction's outcome for one content of a document:
// the version and digest it was extracted from fence the write.
type TextResult struct {
	Version int
	SHA256  string
	State   TextState // TextReady or TextFailed
	Text    string
	Error   string // why it failed
}

// Current reports whether r is for d's current content, still pending.
func (r TextResult) Current(d Document) bool {
	return d.Version == r.Version && d.SHA256 == r.SHA256 && d.TextState == TextPending
}

// ExtractFunc returns up to limit bytes of a file's searchable text, valid
// UTF-8 (the signature of package extract's Text).
type ExtractFunc func(ctx context.Context, path, mime string, limit int64) (string, error)

// Queue is where jobs are enqueued (jobs.Queue).
type Queue interface {
	Enqueue(ctx context.Context, j jobs.Job) error
}

// extractsInline is where a content's text is read, decided once: in the
// upload, before its commit, for a type package extract reads in-process
// (text, Markdown, CSV, JSON, HTML) no bigger than the text kept (max,
// Options.MaxTextBytes): read whole and charset-decoded in about a
// millisecond, far less than a job's second write to the document (its
// row lock, invalidation and index write) would cost. By a job for
// everything else: PDF and Office files run tools in a sandbox for
// seconds, and a bigger text file would hold the upload longer than it
// is worth.
func extractsInline(mime string, size, max int64) bool {
	return extract.Inline(mime) && size <= max
}

// textOf is a new content's text for search and the state it starts in:
// read now and ready (ExtractInline), pending for a job, or none for a
// type without text. A failed inline read is left to the job.
func (s *Service) textOf(ctx context.Context, st *Staged) (string, TextState) {
	if !s.opt.HasText(st.mime) {
		return "", TextNone
	}
	if !s.opt.ExtractInline(st.mime, st.blob.Size) {
		return "", TextPending
	}
	text, err := s.extractStaged(ctx, st)
	if err != nil {
		s.log.WarnContext(ctx, "text not read in the upload; a job extracts it", "sha256", st.blob.SHA256, "mime", st.mime, "err", err)
		return "", TextPending
	}
	return text, TextReady
}

func (s *Service) extractStaged(ctx context.Context, st *Staged) (string, error) {
	f, err := st.blob.Open()
	if err != nil {
		return "", err
	}
	// The extractor reads by path: the staged file itself in a directory
	// store (it stays until the commit publishes it or the caller discards
	// it, after this returns), a temp copy of an S3 staging object (small:
	// ExtractInline admits only small contents).
	path, done, err := blob.LocalFile(f, "", f.Size())
	f.Close()
	if err != nil {
		return "", err
	}
	defer done()
	return s.opt.Extract(ctx, path, st.mime, s.opt.MaxTextBytes)
}

// enqueueExtract enqueues the extraction of d's current content, after its
// commit. A failure is only logged: the database says the text is pending,
// and the sweeper enqueues it again (SweepPendingText).
func (s *Service) enqueueExtract(ctx context.Context, d Document) {
	if d.TextState != TextPending || s.opt.Jobs == nil {
		return
	}
	err := failpoint.Inject(failpoint.DocsBeforeEnqueue, s)
	if err == nil {
		err = s.opt.Jobs.Enqueue(ctx, extractJob(d, s.now()))
	}
	if err != nil {
		s.log.WarnContext(ctx, "text extraction not enqueued; the sweeper enqueues it later", "document_id", d.ID, "version", d.Version, "err", err)
	}
}

func extractJob(d Document, now time.Time) jobs.Job {
	return jobs.Job{Kind: JobExtract, DocumentID: d.ID, Version: d.Version, SHA256: d.SHA256, Mime: d.Mime, EnqueuedAt: now}
}

// ExtractKind is the worker side of the extraction jobs.
func (s *Service) ExtractKind() jobs.Kind {
	return jobs.Kind{Handle: s.ExtractText, Failed: s.TextFailed}
}

// ExtractText is an extraction job: it reads the content's text and
// writes it into the search index, fenced by the job's version and digest,
// so that a late job never overwrites a newer content's text. A job for a
// document gone, replaced or already done is done.
func (s *Service) ExtractText(ctx context.Context, j jobs.Job) error {
	// The cached document may be behind (another instance's commit whose
	// invalidation has not arrived), never ahead: it can only tell that
	// the job is late or done already, which saves the extraction. The
	// fence itself is SetText's, on the row.
	if d, err := s.repo.Get(ctx, j.DocumentID); err == nil &&
		(d.Version > j.Version || (d.Version == j.Version && d.TextState != TextPending)) {
		return nil
	}
	f, err := s.blobs.Open(j.SHA256)
	if errors.Is(err, blob.ErrNotFound) {
		return nil // collected: its document is gone, or has another content with its own job
	}
	if err != nil {
		return fmt.Errorf("opening the content of %s: %w", j.DocumentID, err)
	}
	// The extractor reads the file by its path (package extract runs tools
	// on it): the blob's own file in a directory store (a current
	// content's blob is referenced, so never collected), a temp copy of
	// an S3 object (as large as the upload was allowed to be).
	path, done, err := blob.LocalFile(f, "", f.Size())
	f.Close()
	if err != nil {
		return fmt.Errorf("reading the content of %s: %w", j.DocumentID, err)
	}
	defer done()
	r := TextResult{Version: j.Version, SHA256: j.SHA256, State: TextReady}
	if r.Text, err = s.opt.Extract(ctx, path, j.Mime, s.opt.MaxTextBytes); err != nil {
		if errs.CodeOf(err) == errs.Unprocessable {
			// extract.ErrUnreadable: damaged, encrypted, over a
			// structural limit; the same bytes fail again.
			return jobs.Permanent(err)
		}
		return err
	}
	return s.setText(ctx, j.DocumentID, r)
}

// TextFailed records that the extraction of j's content failed for good.
func (s *Service) TextFailed(ctx context.Context, j jobs.Job, reason error) error {
	return s.setText(ctx, j.DocumentID, TextResult{Version: j.Version, SHA256: j.SHA256, State: TextFailed, Error: reason.Error()})
}

func (s *Service) setText(ctx context.Context, id string, r TextResult) error {
	d, err := s.repo.SetText(ctx, id, r)
	switch {
	case errors.Is(err, ErrTextStale), errors.Is(err, ErrNotFound):
		return nil // a newer content has its own job; a deleted one needs none
	case err != nil:
		return err
	}
	s.log.InfoContext(ctx, "document text extracted", "document_id", id, "version", r.Version, "text_state", d.TextState, "bytes", len(r.Text))
	return nil
}

// SweepPendingText enqueues again the extraction of documents whose text
// has been pending for longer than olderThan: a job lost between a commit
// and Kafka (the process died), or dropped. The database is the truth; the
// queue only carries work. It returns how many it enqueued.
func (s *Service) SweepPendingText(ctx context.Context, olderThan time.Duration) (int, error) {
	if s.opt.Jobs == nil {
		return 0, nil
	}
	now := s.now()
	n := 0
	for {
		ds, err := s.repo.ClaimPendingText(ctx, now.Add(-olderThan), now, 100)
		if err != nil {
			return n, err
		}
		for _, d := range ds {
			if err := s.opt.Jobs.Enqueue(ctx, extractJob(d, now)); err != nil {
				return n, err // claimed, not enqueued: the next sweep after olderThan
			}
			n++
		}
		if len(ds) < 100 {
			return n, nil
		}
	}
}
