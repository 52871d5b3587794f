package server

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"docplat/depfail"
	"docplat/docs"
	"docplat/errs"
	"docplat/idempotency"
)

const (
	maxFieldBytes     = 64 << 10
	multipartOverhead = 1 << 20 // headers and small fields beside the file
)

// uploadForm is a parsed upload: the staged file and the other fields.
type uploadForm struct {
	file   *docs.Staged
	fields map[string]string
}

// digest adds what determines a write made of the upload to its
// fingerprint: the file's name and sha256 (computed while it streamed to
// the staging area) and the named fields (absent and empty are the same,
// as they are to the write).
func (f *uploadForm) digest(fields ...string) func(*idempotency.Fingerprint) {
	return func(fp *idempotency.Fingerprint) {
		fp.Add("filename", f.file.Filename()).Add("sha256", f.file.SHA256())
		for _, name := range fields {
			fp.Add(name, f.fields[name])
		}
	}
}

// readUpload streams a multipart body: the file part goes straight into the
// staging area (never into memory); other parts must be among allowed.
// On failure it has already answered and discarded anything staged.
func (s *Server) readUpload(c *gin.Context, allowed ...string) (*uploadForm, bool) {
	ct, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		abort(c, errs.BadRequest, "the body must be multipart/form-data with a 'file' part")
		return nil, false
	}
	limit := s.deps.Docs.MaxUploadBytes() + multipartOverhead
	if c.Request.ContentLength > limit {
		s.fail(c, docs.ErrTooLarge)
		return nil, false
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		abort(c, errs.BadRequest, "malformed multipart body: "+err.Error())
		return nil, false
	}
	form := &uploadForm{fields: map[string]string{}}
	ok := false
	defer func() {
		if !ok {
			form.file.Discard()
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.uploadError(c, err)
			return nil, false
		}
		name := part.FormName()
		switch {
		case name == "file":
			if form.file != nil {
				abort(c, errs.BadRequest, "only one 'file' part is allowed")
				return nil, false
			}
			if form.file, err = s.deps.Docs.Stage(part, rawFilename(part)); err != nil {
				s.uploadError(c, err)
				return nil, false
			}
		case contains(allowed, name):
			if _, dup := form.fields[name]; dup {
				abort(c, errs.BadRequest, "field '"+name+"' is repeated")
				return nil, false
			}
			b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			if err != nil {
				s.uploadError(c, err)
				return nil, false
			}
			if len(b) > maxFieldBytes {
				abort(c, errs.BadRequest, "field '"+name+"' is longer than 64 KiB")
				return nil, false
			}
			form.fields[name] = string(b)
		default:
			abort(c, errs.BadRequest, "unknown form field '"+name+"' (allowed: file, "+strings.Join(allowed, ", ")+")")
			return nil, false
		}
		part.Close()
	}
	if form.file == nil {
		abort(c, errs.BadRequest, "the 'file' part is required")
		return nil, false
	}
	ok = true
	return form, true
}

// rawFilename is the file name as the client sent it. multipart.Part's
// FileName strips directories, which would hide a path-like name that we
// want to refuse rather than silently accept.
func rawFilename(p *multipart.Part) string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return params["filename"]
}

// uploadError answers a failed multipart read: over the limit is 413, a
// failing blob store 503, a broken body 400, domain errors as usual.
func (s *Server) uploadError(c *gin.Context, err error) {
	var (
		tooLarge *http.MaxBytesError
		coded    *errs.Error
	)
	switch {
	case errors.As(err, &tooLarge), errors.As(err, &coded):
		s.fail(c, err) // over the limit, or Stage's answer (too large, bad input, unsupported type)
	case errors.Is(err, depfail.ErrUnavailable):
		s.fail(c, err) // the blob store (S3) failed, not the body: 503 with Retry-After
	case c.Request.Context().Err() != nil:
		c.AbortWithStatus(499)
	default:
		abort(c, errs.BadRequest, "malformed multipart body: "+err.Error())
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
