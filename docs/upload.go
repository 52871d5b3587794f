package docs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"time"

	"docplat/blob"
	"docplat/charset"
)

// Staged is uploaded content that is durable in the staging area but not
// yet part of any document. Always Discard it when done; after a successful
// Create or ReplaceContent that is a no-op.
type Staged struct {
	blob     *blob.Staged
	filename string
	mime     string
}

// Size is the staged content's length in bytes.
func (st *Staged) Size() int64 { return st.blob.Size }

// SHA256 is the staged content's digest (hex), computed while it streamed in.
func (st *Staged) SHA256() string { return st.blob.SHA256 }

// Filename is the file name the content was uploaded under.
func (st *Staged) Filename() string { return st.filename }

// Discard removes the staged content unless it was published.
func (st *Staged) Discard() {
	if st != nil && st.blob != nil {
		_ = st.blob.Discard()
	}
}

// Stage streams an upload into the staging area while hashing it, enforcing
// the size limit and the type allow-list. It never holds the content in
// memory. Errors: ErrTooLarge, ErrUnsupportedType, errs.BadRequest (an
// empty file, a bad file name).
func (s *Service) Stage(r io.Reader, filename string) (*Staged, error) {
	if err := checkFilename(filename); err != nil {
		return nil, err
	}
	b, err := s.blobs.Stage(r, s.opt.MaxUploadBytes)
	switch {
	case errors.Is(err, blob.ErrTooLarge):
		return nil, ErrTooLarge
	case errors.Is(err, blob.ErrEmpty):
		return nil, invalid("the file is empty")
	case err != nil:
		return nil, fmt.Errorf("stage upload: %w", err)
	}
	mime, err := detectType(b.Head, filename)
	if err != nil {
		_ = b.Discard()
		return nil, err
	}
	if mime, err = s.labelCharset(b, mime); err != nil {
		_ = b.Discard()
		return nil, fmt.Errorf("stage upload: %w", err)
	}
	return &Staged{blob: b, filename: filename, mime: mime}, nil
}

// NewDocument is the metadata of an upload. Empty Title defaults to the file
// name without extension; empty Visibility to private.
type NewDocument struct {
	Title       string
	Description string
	Tags        []string
	Visibility  Visibility
	// PublishAt and LectureAt are RFC 3339 times ("" for none): see
	// Document.PublishAt.
	PublishAt, LectureAt string
}

// newContent is st as the next content, with its text read now or left
// pending for a job (textOf): title, tags and description are searchable
// at once either way.
func (s *Service) newContent(ctx context.Context, st *Staged, actor Actor, version int) NewContent {
	v := Version{Version: version, Size: st.blob.Size, SHA256: st.blob.SHA256, Mime: st.mime,
		Filename: st.filename, CreatedBy: actor.UserID, CreatedAt: s.now()}
	text, state := s.textOf(ctx, st)
	return NewContent{Version: v, Text: text, TextState: state, PreviewState: s.previewStateOf(st.mime), Staged: st.blob.TempName()}
}

// charsetSample is how much of a text upload its charset is told from: the
// first 512 bytes the sniffer sees may hold no Chinese at all (a manual
// page's header, an HTML head).
const charsetSample = 64 << 10

// labelCharset names in a text type the charset its bytes are in. A
// charset the sniffer read from a byte-order mark (UTF-16) stands.
func (s *Service) labelCharset(b *blob.Staged, mediaType string) (string, error) {
	base, params, err := mime.ParseMediaType(mediaType)
	if err != nil || !strings.HasPrefix(base, "text/") || (params["charset"] != "" && params["charset"] != charset.UTF8) {
		return mediaType, nil
	}
	f, err := b.Open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	sample, err := io.ReadAll(io.LimitReader(f, charsetSample))
	if err != nil {
		return "", err
	}
	return withCharset(mediaType, charset.Detect(sample, b.Size > int64(len(sample)))), nil
}

// Create makes a new document of staged content, owned by actor and counted
// against actor's department quota. Errors: ErrUnauthorized, errs.BadRequest
// (an invalid field), ErrQuota (the stats service voted no).
// A write that may have committed answers ErrNotYetReadable or ErrInDoubt
// (MayHaveCommitted), one refused before any change ErrUnavailable; a
// failing dependency otherwise keeps its depfail error.
func (s *Service) Create(ctx context.Context, actor Actor, in NewDocument, st *Staged) (Document, error) {
	if err := CheckCanCreate(actor); err != nil {
		return Document{}, err
	}
	in, err := in.normalize(st.filename)
	if err != nil {
		return Document{}, err
	}
	publishAt, err := ParseScheduleTime("publish_at", in.PublishAt, s.now())
	if err != nil {
		return Document{}, err
	}
	lectureAt, err := ParseScheduleTime("lecture_at", in.LectureAt, s.now())
	if err != nil {
		return Document{}, err
	}
	c := s.newContent(ctx, st, actor, 1)
	now := c.Version.CreatedAt
	d := Document{ID: NewID(), Title: in.Title, Description: in.Description, Tags: in.Tags, Visibility: in.Visibility,
		OwnerID: actor.UserID, DepartmentID: actor.DepartmentID, Filename: st.filename,
		Size: c.Version.Size, Mime: c.Version.Mime, SHA256: c.Version.SHA256, Version: 1, Revision: 1,
		TextState: c.TextState, CreatedAt: now, UpdatedAt: now, PublishAt: publishAt, LectureAt: lectureAt}
	if err := s.repo.Create(ctx, d, c); err != nil {
		return Document{}, err // one that may have committed is swept (SweepPendingText)
	}
	s.enqueueExtract(ctx, d)
	s.enqueuePreview(ctx, d)
	s.log.InfoContext(ctx, "document created", "document_id", d.ID, "owner_id", d.OwnerID, "size", d.Size, "mime", d.Mime, "sha256", d.SHA256)
	return d, nil
}

// normalize applies Create's defaults (the title from the file name,
// private) and checks every field.
func (in NewDocument) normalize(filename string) (NewDocument, error) {
	if in.Title == "" {
		in.Title = strings.TrimSuffix(filename, path.Ext(filename))
		if in.Title == "" {
			in.Title = filename
		}
	}
	var err error
	if in.Title, err = checkTitle(in.Title); err != nil {
		return in, err
	}
	if in.Description, err = checkDescription(in.Description); err != nil {
		return in, err
	}
	if in.Tags, err = normalizeTags(in.Tags); err != nil {
		return in, err
	}
	if in.Visibility == "" {
		in.Visibility = Private
	}
	return in, checkVisibility(in.Visibility)
}

// CheckNewDocument runs Create's checks of the metadata and the file name
// before any content exists, so that a resumable upload is refused before
// its bytes are sent rather than after. Errors: errs.BadRequest.
func CheckNewDocument(in NewDocument, filename string) error {
	if err := checkFilename(filename); err != nil {
		return err
	}
	if _, err := in.normalize(filename); err != nil {
		return err
	}
	now := time.Now().UTC()
	if _, err := ParseScheduleTime("publish_at", in.PublishAt, now); err != nil {
		return err
	}
	_, err := ParseScheduleTime("lecture_at", in.LectureAt, now)
	return err
}

// CheckFilename is Stage's check of a file name (errs.BadRequest).
func CheckFilename(filename string) error { return checkFilename(filename) }

// ReplaceContent makes staged content the document's next version.
// Errors: those of Update's checks (ErrUnauthorized, ErrNotFound,
// ErrForbidden, ErrPrecondition), ErrQuota, and those of a write (see Create).
func (s *Service) ReplaceContent(ctx context.Context, actor Actor, id string, ifMatch Precondition, st *Staged) (Document, error) {
	if actor.Anonymous() {
		return Document{}, ErrUnauthorized
	}
	c := s.newContent(ctx, st, actor, 0)
	d, err := s.repo.AddVersion(ctx, id, func(cur Document) error {
		if err := s.check(actor, cur, PermWrite); err != nil {
			return err
		}
		return ifMatch.check(cur)
	}, c)
	if err != nil {
		return Document{}, err
	}
	s.enqueueExtract(ctx, d)
	s.enqueuePreview(ctx, d)
	s.log.InfoContext(ctx, "document content replaced", "document_id", d.ID, "version", d.Version, "size", d.Size)
	return d, nil
}
