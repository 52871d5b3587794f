package resumable

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"

	"docplat/depfail"
	"docplat/docs"
	"docplat/errs"
	"docplat/idempotency"
)

// create admits a new upload: everything that can be refused before the
// bytes are sent is refused here, and the record is written under the
// user's lock so that the limit on unfinished uploads holds across
// instances.
func (s *Service) create(ctx context.Context, a docs.Actor, info handler.FileInfo, header http.Header) (record, error) {
	rec, err := s.admit(ctx, a, info, header)
	if err != nil {
		s.m.refused.WithLabelValues(refusalReason(err)).Inc()
		return record{}, err
	}
	s.m.created.Inc()
	return rec, nil
}

func (s *Service) admit(ctx context.Context, a docs.Actor, info handler.FileInfo, header http.Header) (record, error) {
	if a.Anonymous() {
		return record{}, docs.ErrUnauthorized
	}
	md := info.MetaData
	m := meta{Filename: md["filename"], Title: md["title"], Description: md["description"],
		Tags: docs.SplitTags(md["tags"]), Visibility: md["visibility"],
		PublishAt: md["publish_at"], LectureAt: md["lecture_at"]}
	switch {
	case info.SizeIsDeferred:
		return record{}, ErrNoLength
	case info.Size > s.docs.MaxUploadBytes():
		return record{}, docs.ErrTooLarge
	case info.Size <= 0:
		return record{}, errs.New(errs.BadRequest, "the file is empty")
	}
	rec := record{ID: newUploadID(), UserID: a.UserID, Size: info.Size, State: Uploading}
	dept := a.DepartmentID
	if target := md["document_id"]; target != "" {
		ifMatch := md["if_match"]
		if ifMatch == "" {
			ifMatch = header.Get("If-Match")
		}
		pre, err := docs.ParseIfMatch(ifMatch)
		if err != nil {
			return record{}, err
		}
		if err := docs.CheckFilename(m.Filename); err != nil {
			return record{}, err
		}
		// Refused now when the caller may not write it or the precondition
		// already fails; the commit checks again at the end.
		if err := s.docs.CheckWritable(ctx, a, target, pre); err != nil {
			return record{}, err
		}
		d, err := s.docs.Get(ctx, a, target)
		if err != nil {
			return record{}, err
		}
		rec.TargetID, rec.IfMatch, dept = &target, ifMatch, d.DepartmentID
		m = meta{Filename: m.Filename}
	} else {
		if err := docs.CheckCanCreate(a); err != nil {
			return record{}, err
		}
		if err := docs.CheckNewDocument(m.document(), m.Filename); err != nil {
			return record{}, err
		}
	}
	if err := s.earlyQuota(ctx, dept, info.Size); err != nil {
		return record{}, err
	}
	b, _ := json.Marshal(m)
	rec.Metadata = string(b)
	lctx, cancel := context.WithTimeout(ctx, s.opt.LockWait)
	defer cancel()
	lease, err := s.locks.Acquire(lctx, "tus-user:"+a.UserID)
	if err != nil {
		return record{}, depfail.Wrap("locks", err)
	}
	defer func() { _ = lease.Release(context.WithoutCancel(ctx)) }()
	n, err := s.unfinished(ctx, a.UserID)
	if err != nil {
		return record{}, err
	}
	if n >= int64(s.opt.MaxUnfinished) {
		return record{}, ErrTooMany
	}
	now := s.now()
	rec.CreatedAt, rec.UpdatedAt, rec.ExpiresAt = now, now, now.Add(s.opt.Expiry)
	if err := s.db2(ctx).Create(&rec).Error; err != nil {
		return record{}, dbErr("recording an upload", err)
	}
	return rec, nil
}

func (m meta) document() docs.NewDocument {
	return docs.NewDocument{Title: m.Title, Description: m.Description, Tags: m.Tags, Visibility: docs.Visibility(m.Visibility),
		PublishAt: m.PublishAt, LectureAt: m.LectureAt}
}

// earlyQuota refuses an upload that cannot fit in what its department
// has left now, before its bytes are sent. It is advice, not the
// decision: the stats service's vote at the end decides, so a usage that
// cannot be read lets the upload go on.
func (s *Service) earlyQuota(ctx context.Context, dept string, size int64) error {
	if s.usage == nil {
		return nil
	}
	used, quota, err := s.usage(ctx, dept)
	if err != nil {
		s.log.WarnContext(ctx, "resumable upload admitted without the early quota check", "department_id", dept, "err", err)
		return nil
	}
	if quota > 0 && used+size > quota {
		if dept == "" {
			dept = docs.NoDepartment
		}
		return &docs.QuotaError{DepartmentID: dept, QuotaBytes: quota, Size: size}
	}
	return nil
}

func refusalReason(err error) string {
	switch {
	case errors.Is(err, docs.ErrQuota):
		return "quota"
	case errors.Is(err, ErrTooMany):
		return "too_many"
	}
	switch errs.CodeOf(err) {
	case errs.Forbidden, errs.Unauthorized, errs.NotFound, errs.PreconditionFailed:
		return "forbidden"
	case errs.Unavailable, errs.Internal, "":
		return "unavailable"
	}
	return "invalid"
}

// owned is the caller's upload id (ErrNotFound for anyone else's).
func (s *Service) owned(ctx context.Context, a docs.Actor, id string) (record, error) {
	if a.Anonymous() {
		return record{}, docs.ErrUnauthorized
	}
	rec, err := s.load(ctx, id)
	if err != nil {
		return record{}, err
	}
	if rec.UserID != a.UserID {
		return record{}, ErrNotFound
	}
	return rec, nil
}

// Status is the caller's upload id as it stands. An upload whose bytes
// all arrived but whose finish did not run to its end (its instance died,
// a dependency failed) is finished now: a client that lost the final
// answer asks here.
func (s *Service) Status(ctx context.Context, a docs.Actor, id string) (Upload, error) {
	rec, err := s.owned(ctx, a, id)
	if err != nil {
		return Upload{}, err
	}
	offset := int64(0)
	switch rec.State {
	case Uploading, Processing:
		if !rec.ExpiresAt.After(s.now()) && rec.State == Uploading {
			return Upload{}, ErrExpired
		}
		if offset, err = s.offset(ctx, id); err != nil {
			return Upload{}, err
		}
		if offset == rec.Size {
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
			defer cancel()
			switch done, err := s.finish(fctx, a, rec); {
			case errors.Is(err, ErrProcessing):
				rec.State = Processing
			case err != nil:
				return Upload{}, err
			default:
				rec = done
			}
		}
	case Done:
		offset = rec.Size
	}
	u := Upload{ID: rec.ID, State: rec.State, Size: rec.Size, Offset: offset, Filename: rec.meta().Filename,
		CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt}
	if rec.TargetID != nil {
		u.TargetID = *rec.TargetID
	}
	if rec.DocumentID != nil {
		u.DocumentID = *rec.DocumentID
	}
	if rec.State == Failed {
		u.Status = rec.ErrorStatus
		var body struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal([]byte(rec.ErrorBody), &body) == nil {
			u.Error = body.Error
		}
	}
	return u, nil
}

// offset is how many bytes of id arrived (0 when its data is gone).
func (s *Service) offset(ctx context.Context, id string) (int64, error) {
	up, err := s.store.GetUpload(ctx, id)
	if errors.Is(err, handler.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, depfail.Wrap("upload store", err)
	}
	info, err := up.GetInfo(ctx)
	if err != nil {
		return 0, depfail.Wrap("upload store", err)
	}
	return info.Offset, nil
}

// cancel is a DELETE of an unfinished upload (tusd removes its data).
func (s *Service) cancel(ctx context.Context, id string) error {
	res := s.db.WithContext(context.WithoutCancel(ctx)).Where("id = ? AND state = ?", id, Uploading).Delete(&record{})
	if res.Error != nil {
		return dbErr("cancelling an upload", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrFinished
	}
	return nil
}

// removeData deletes an upload's bytes from the tus store (done, refused
// or expired); a second removal is harmless.
func (s *Service) removeData(ctx context.Context, id string) {
	up, err := s.store.GetUpload(ctx, id)
	if errors.Is(err, handler.ErrNotFound) {
		err = s.store.purge(ctx, id)
	} else if err == nil {
		err = s.store.AsTerminatableUpload(up).Terminate(ctx)
	}
	if err != nil {
		s.log.WarnContext(ctx, "removing a resumable upload's data (the cleanup will retry)", "upload_id", id, "err", err)
	}
}

// claimKey is the idempotency key a finish runs under: the upload's id, so
// that every attempt at finishing it is the same write.
func claimKey(id string) (key, request string) { return "tus:" + id, "POST " + BasePath + id }

// finish turns a complete upload into its document: staged while hashed
// and sniffed, then written through the three-phase commit under the
// upload's idempotency key. It returns the record done or failed (a
// refusal: quota, type, precondition), or an error when it could not
// decide (ErrProcessing: another attempt runs; a failing dependency: the
// next attempt decides).
func (s *Service) finish(ctx context.Context, a docs.Actor, rec record) (record, error) {
	if rec.State == Done || rec.State == Failed {
		return rec, nil
	}
	key, request := claimKey(rec.ID)
	claim, err := s.claims.Begin(ctx, rec.UserID, key, request)
	if err != nil {
		return record{}, depfail.Wrap("database", err)
	}
	switch claim.Verdict {
	case idempotency.InFlight:
		return record{}, ErrProcessing
	case idempotency.Committed:
		return s.settleDone(ctx, rec, claim.DocumentID)
	case idempotency.Replay:
		return s.load(ctx, rec.ID) // settled (done or failed) before its answer was recorded
	case idempotency.Mismatch:
		return record{}, errs.New(errs.Internal, "the upload's idempotency key belongs to another request")
	}
	start := time.Now()
	if _, err := s.setState(ctx, rec.ID, Processing, nil, Uploading, Processing); err != nil {
		_ = s.claims.Release(ctx, rec.UserID, key)
		return record{}, err
	}
	d, err := s.write(ctx, a, rec, key, request)
	s.m.finish.Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		body, _ := json.Marshal(d)
		if ferr := s.claims.Finish(ctx, rec.UserID, key, "", idempotency.Response{Status: http.StatusCreated,
			Header: map[string]string{"Content-Type": "application/json", "Location": "/api/v1/documents/" + d.ID}, Body: body}); ferr != nil {
			s.log.WarnContext(ctx, "recording a resumable upload's outcome (its commit mark stands)", "err", ferr)
		}
		return s.settleDone(ctx, rec, d.ID)
	case docs.MayHaveCommitted(err):
		// Recovery decides it; the commit mark then answers the next attempt.
		_ = s.claims.Hold(ctx, rec.UserID, key, idempotency.InDoubtLease)
		s.m.finished.WithLabelValues("retry").Inc()
		return record{}, err
	case decided(err):
		resp := s.refuser(ctx, err)
		if ferr := s.claims.Finish(ctx, rec.UserID, key, "", idempotency.Response{Status: resp.StatusCode,
			Header: map[string]string{"Content-Type": "application/json"}, Body: []byte(resp.Body)}); ferr != nil {
			s.log.WarnContext(ctx, "recording a resumable upload's refusal", "err", ferr)
		}
		if _, serr := s.setState(ctx, rec.ID, Failed, map[string]any{"error_status": resp.StatusCode, "error_body": resp.Body}, Processing); serr != nil {
			return record{}, serr
		}
		s.removeData(ctx, rec.ID)
		s.m.finished.WithLabelValues("refused").Inc()
		s.log.InfoContext(ctx, "resumable upload refused at the end", "upload_id", rec.ID, "status", resp.StatusCode, "code", errs.CodeOf(err))
		return s.load(ctx, rec.ID)
	default:
		_ = s.claims.Release(ctx, rec.UserID, key)
		_, _ = s.setState(ctx, rec.ID, Uploading, nil, Processing)
		s.m.finished.WithLabelValues("retry").Inc()
		return record{}, err
	}
}

// storeReader marks a failure reading the upload's bytes back (S3 or the
// disk failing under the finish) as the store being unavailable: the
// finish is retried (503), not refused.
type storeReader struct{ io.Reader }

func (r storeReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err != nil && err != io.EOF {
		err = depfail.Wrap("upload store", err)
	}
	return n, err
}

// errIncomplete is tusd's S3 store saying the upload is not assembled.
var errIncomplete = handler.Error{ErrorCode: "ERR_INCOMPLETE_UPLOAD"}

// decided reports whether err refuses the write for good (the caller must
// change something), as opposed to a failure a retry may overcome.
func decided(err error) bool {
	if errors.Is(err, depfail.ErrUnavailable) || depfail.IsTransient(err) {
		return false
	}
	switch errs.CodeOf(err) {
	case "", errs.Unavailable, errs.Internal, errs.Conflict:
		return false
	}
	return true
}

// write stages the upload's bytes and writes the document or version.
func (s *Service) write(ctx context.Context, a docs.Actor, rec record, key, request string) (docs.Document, error) {
	up, err := s.store.GetUpload(ctx, rec.ID)
	if err != nil {
		return docs.Document{}, depfail.Wrap("upload store", err)
	}
	r, err := up.GetReader(ctx)
	if errors.Is(err, errIncomplete) {
		// Every byte arrived (the finish runs at the full offset) but the
		// store did not assemble them: S3 failed under the final PATCH's
		// completion of the multipart upload. Assemble them now.
		if err = up.FinishUpload(ctx); err == nil {
			r, err = up.GetReader(ctx)
		}
	}
	if err != nil {
		return docs.Document{}, depfail.Wrap("upload store", err)
	}
	defer r.Close()
	m := rec.meta()
	st, err := s.docs.Stage(storeReader{r}, m.Filename)
	if err != nil {
		return docs.Document{}, err
	}
	defer st.Discard()
	if st.Size() != rec.Size {
		return docs.Document{}, errs.New(errs.Internal, "the upload's data is shorter than its length")
	}
	fp := idempotency.NewFingerprint(request).Add("sha256", st.SHA256()).Sum()
	ctx = docs.WithIdempotencyKey(ctx, docs.IdempotencyRef{UserID: rec.UserID, Key: key, Fingerprint: fp})
	if rec.TargetID != nil {
		pre, err := docs.ParseIfMatch(rec.IfMatch)
		if err != nil {
			return docs.Document{}, err
		}
		return s.docs.ReplaceContent(ctx, a, *rec.TargetID, pre, st)
	}
	return s.docs.Create(ctx, a, m.document(), st)
}

func (s *Service) settleDone(ctx context.Context, rec record, documentID string) (record, error) {
	if _, err := s.setState(ctx, rec.ID, Done, map[string]any{"document_id": documentID}, Uploading, Processing); err != nil {
		return record{}, err
	}
	s.removeData(ctx, rec.ID)
	s.m.finished.WithLabelValues("done").Inc()
	return s.load(ctx, rec.ID)
}
