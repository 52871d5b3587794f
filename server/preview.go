package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"docplat/contentpolicy"
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
// raise it when Markdown rendering, sanitizing, the limits or the fields
// change, so that browsers drop what they revalidate.
const previewFormat = "pj3"

// pendingRetry is the Retry-After of a preview being generated.
const pendingRetry = "5"

// servePreview answers a version's preview (JSON) or, with ?page=N, one
// page image as PNG. The permission is the content's (a document the
// caller may not read is 404); the JSON preview counts as a view, page
// images do not (a document's pages come with its preview). Nothing is
// rendered here: page images are generated off the request path
// (preview.Service.Generate); until they are, the JSON answers kind
// pending and a page 503, both with Retry-After.
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
	d, v, body, err := s.deps.Docs.Content(c.Request.Context(), who, c.Param("id"), version)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer body.Close()
	src := preview.Source{SHA256: v.SHA256, Size: v.Size, Mime: v.Mime, Body: body}
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if page > 0 {
		s.servePage(c, src, page, width, version > 0)
		return
	}
	s.deps.Docs.RecordContentRead(c.Request.Context(), who, d, docs.AccessView, v.Size)
	// Checked before the preview is made: a client holds this ETag only
	// from a final answer (below), which never changes for these bytes.
	etag := `"` + previewFormat + "-" + v.SHA256 + `"`
	if noneMatch(c.GetHeader("If-None-Match"), etag) {
		h.Set("ETag", etag)
		h.Set("Cache-Control", "private, no-cache")
		c.Status(http.StatusNotModified)
		return
	}
	p := preview.Preview{Kind: preview.KindNone, Reason: "this server renders no previews"}
	if s.deps.Previews != nil {
		if p, err = s.deps.Previews.Describe(c.Request.Context(), src); err != nil {
			s.fail(c, err)
			return
		}
	}
	switch {
	case p.Kind == preview.KindPending:
		// Not yet what it will be: nothing to revalidate against.
		h.Set("Cache-Control", "no-store")
		h.Set("Retry-After", pendingRetry)
	case p.Kind == preview.KindNone && preview.Paged(v.Mime):
		// This server's tools or limits: they may change.
		h.Set("Cache-Control", "no-store")
	default:
		h.Set("ETag", etag)
		h.Set("Cache-Control", "private, no-cache")
	}
	c.JSON(http.StatusOK, previewAnswer{Preview: p, Version: v.Version, Mime: v.Mime, SHA256: v.SHA256})
}

// servePage answers one generated page image with the content's rules
// (package contentpolicy heads it, net/http answers conditions and
// ranges); immutable: the URL names its version.
func (s *Server) servePage(c *gin.Context, src preview.Source, page, width int, immutable bool) {
	if s.deps.Previews == nil {
		abort(c, errs.Unprocessable, "this server has no page previews")
		return
	}
	pol := contentpolicy.Derived{SHA256: src.SHA256, Name: preview.PageName(page, preview.Width(width)), Mime: "image/png", Immutable: immutable}
	// A page image's ETag names its bytes: a client holding it has them,
	// so the 304 needs no file.
	if noneMatch(c.GetHeader("If-None-Match"), pol.ETag()) {
		pol.SetHeader(c.Writer.Header())
		c.Status(http.StatusNotModified)
		return
	}
	f, name, err := s.deps.Previews.Page(c.Request.Context(), src, page, width)
	if err != nil {
		s.fail(c, err) // pending: 503 with Retry-After
		return
	}
	defer f.Close()
	pol.Name = name
	pol.SetHeader(c.Writer.Header())
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, f)
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
