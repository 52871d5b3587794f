package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"docplat/admission"
	"docplat/docs"
	"docplat/errs"
	"docplat/preview"
)

func (s *Server) getPreview(c *gin.Context) {
	s.servePreview(c, 0)
}

func (s *Server) getVersionPreview(c *gin.Context) {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 {
		abort(c, errs.NotFound, "no such version")
		return
	}
	s.servePreview(c, n)
}

// previewAnswer is the JSON preview: the preview and the version it shows
// (the UI compares it with the document's, to reload after a new version).
type previewAnswer struct {
	preview.Preview
	Version int    `json:"version"`
	Mime    string `json:"mime"`
	SHA256  string `json:"sha256"`
}

// previewFormat names the rendering rules in the JSON preview's ETag:
// raise it when Markdown rendering, sanitizing or the limits change, so
// that browsers drop what they revalidate.
const previewFormat = "pj2"

// pageMaxAge: a page image is addressed by content hash, page and width,
// so it never changes; private, because reading it needed a permission.
const pageMaxAge = "private, max-age=31536000, immutable"

// servePreview answers a version's preview (JSON) or, with ?page=N, one
// PDF page as PNG. The permission is the content's (a document the caller
// may not read is 404); the JSON preview counts as a view, page images
// do not (a PDF's pages come with its preview).
func (s *Server) servePreview(c *gin.Context, version int) {
	page, width, ok := previewQuery(c)
	if !ok {
		return
	}
	who := actor(c)
	if who.Anonymous() {
		if a, ok := s.tokenActor(c, c.Param("id")); ok {
			who = a
		}
	}
	d, v, body, err := s.deps.Docs.Content(c, who, c.Param("id"), version)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer body.Close()
	src := preview.Source{SHA256: v.SHA256, Size: v.Size, Mime: v.Mime, Body: body}
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if page > 0 {
		if s.deps.Previews == nil {
			abort(c, errs.Unprocessable, "this server renders no PDF pages")
			return
		}
		width = preview.Width(width)
		etag := preview.ETag(v.SHA256, page, width)
		h.Set("ETag", etag)
		h.Set("Cache-Control", pageMaxAge)
		if noneMatch(c.GetHeader("If-None-Match"), etag) {
			c.Status(http.StatusNotModified)
			return
		}
		png, err := s.deps.Previews.Page(c, src, page, width, s.previewGate)
		if err != nil {
			h.Del("ETag")
			h.Del("Cache-Control")
			s.fail(c, err)
			return
		}
		h.Set("Content-Security-Policy", "default-src 'none'")
		c.Data(http.StatusOK, "image/png", png)
		return
	}
	s.deps.Docs.RecordContentRead(c, who, d, docs.AccessView, v.Size)
	etag := `"` + previewFormat + "-" + v.SHA256 + `"`
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, no-cache")
	if noneMatch(c.GetHeader("If-None-Match"), etag) {
		c.Status(http.StatusNotModified)
		return
	}
	p := preview.Preview{Kind: preview.KindNone, Reason: "this server renders no previews"}
	if s.deps.Previews != nil {
		if p, err = s.deps.Previews.Describe(c, src, s.previewGate); err != nil {
			h.Del("ETag")
			s.fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, previewAnswer{Preview: p, Version: v.Version, Mime: v.Mime, SHA256: v.SHA256})
}

// previewQuery reads ?page= and ?width= (page 0: the JSON preview).
func previewQuery(c *gin.Context) (page, width int, ok bool) {
	q := c.Request.URL.Query()
	if !q.Has("page") {
		if q.Has("width") {
			abort(c, errs.BadRequest, "width goes with page: ?page=N&width=W")
			return 0, 0, false
		}
		return 0, 0, true
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		abort(c, errs.BadRequest, "page must be a page number from 1")
		return 0, 0, false
	}
	width = preview.DefaultWidth
	if q.Has("width") {
		if width, err = strconv.Atoi(q.Get("width")); err != nil || width < 1 || width > preview.MaxWidth {
			abort(c, errs.BadRequest, "width must be a number of pixels from 1 to "+strconv.Itoa(preview.MaxWidth))
			return 0, 0, false
		}
	}
	return page, width, true
}

// previewGate admits one poppler run in the admission class "preview"; a
// shed run answers 503 unavailable (fail adds Retry-After).
func (s *Server) previewGate(ctx context.Context) (func(), error) {
	release, err := s.admission.Admit(ctx, admission.Preview)
	var shed *admission.ShedError
	if errors.As(err, &shed) {
		return nil, errs.Wrap(err, errs.Unavailable, "the server is busy rendering previews; retry in a moment")
	}
	return release, err
}

// noneMatch reports whether an If-None-Match header lists etag (weakly,
// as RFC 9110 wants for GET) or is "*".
func noneMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
