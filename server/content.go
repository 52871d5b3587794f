package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"docplat/docs"
	"docplat/errs"
)

func (s *Server) getContent(c *gin.Context) {
	s.serveContent(c, 0)
}

func (s *Server) getVersionContent(c *gin.Context) {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 {
		abort(c, errs.NotFound, "no such version")
		return
	}
	s.serveContent(c, n)
}

// serveContent streams a version's bytes with http.ServeContent, which
// implements Range (206/416), If-None-Match/If-Modified-Since (304) and
// If-Range from the ETag and modification time set here.
func (s *Server) serveContent(c *gin.Context, version int) {
	who := actor(c)
	if who.Anonymous() {
		if a, ok := s.tokenActor(c, c.Param("id")); ok {
			who = a
		}
	}
	d, v, f, err := s.deps.Docs.Content(c.Request.Context(), who, c.Param("id"), version)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer f.Close()
	s.writeContent(c, who, d, v, f, c.Query("download") == "1", contentAnswer{})
}

// contentAnswer is what a route adds to writeContent's answer.
type contentAnswer struct {
	// gate, when set, is asked just before a successful status (200 or
	// 206, never 304 or an error) is sent, with nothing written yet: an
	// error from it is answered instead of the content.
	gate func(status int) error
	// cacheControl, when set, replaces the content policy's.
	cacheControl string
	// shareID names the share link the content is read through (the audit
	// log records the read as the link's download).
	shareID string
}

// writeContent answers a version's bytes with the content policy's
// headers, Range, 304 and the contract's error bodies.
func (s *Server) writeContent(c *gin.Context, who docs.Actor, d docs.Document, v docs.Version, f docs.Body, download bool, ans contentAnswer) {
	kind := docs.AccessView
	if download {
		kind = docs.AccessDownload
	}
	switch {
	case c.Request.Method != http.MethodGet:
	case ans.shareID != "":
		s.deps.Docs.RecordShareRead(c.Request.Context(), ans.shareID, d, kind, v.Size)
	default:
		s.deps.Docs.RecordContentRead(c.Request.Context(), who, d, kind, v.Size)
	}
	policy := docs.ContentPolicy(d, v)
	policy.SetHeader(c.Writer.Header(), download)
	if ans.cacheControl != "" {
		c.Writer.Header().Set("Cache-Control", ans.cacheControl)
	}
	req := c.Request
	if zeroSuffixRange(req.Header.Get("Range")) {
		// net/http answers bytes=-0 with an empty 206; ask it for a range
		// past the end instead, so that the answer is its 416 and the
		// preconditions (304, If-Range) still come first.
		r := *req
		r.Header = req.Header.Clone()
		r.Header.Set("Range", "bytes="+strconv.FormatInt(v.Size, 10)+"-")
		req = &r
	}
	http.ServeContent(&contractErrors{ResponseWriter: c.Writer, size: v.Size, gate: ans.gate}, req, "", policy.Modified, f)
}

// zeroSuffixRange reports a Range header whose every range is a suffix of
// zero bytes (bytes=-0): unsatisfiable as a whole (RFC 9110, 14.1.1). A
// list with a satisfiable range in it is left to net/http.
func zeroSuffixRange(h string) bool {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok || strings.TrimSpace(spec) == "" {
		return false
	}
	for _, r := range strings.Split(spec, ",") {
		n, ok := strings.CutPrefix(strings.TrimSpace(r), "-")
		if !ok {
			return false
		}
		if v, err := strconv.ParseInt(n, 10, 64); err != nil || v != 0 {
			return false
		}
	}
	return true
}

// contractErrors rewrites the plain-text error bodies of http.ServeContent
// (416 and friends) into the contract's JSON error body.
type contractErrors struct {
	http.ResponseWriter
	size   int64
	failed bool
	gate   func(status int) error
}

func (w *contractErrors) WriteHeader(status int) {
	if status < 400 {
		if w.gate != nil && (status == http.StatusOK || status == http.StatusPartialContent) {
			if err := w.gate(status); err != nil {
				w.refuse(err)
				return
			}
		}
		w.ResponseWriter.WriteHeader(status)
		return
	}
	// The status is ServeContent's (416, or a 400 for a malformed request):
	// the contract gives a refused Range no code of its own.
	code, msg := errs.BadRequest, http.StatusText(status)
	w.writeError(status, code, msg)
}

// refuse answers the gate's error in place of the content.
func (w *contractErrors) refuse(err error) {
	code := errs.CodeOf(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = errs.Internal, http.StatusInternalServerError
	}
	if code == errs.Unavailable {
		w.Header().Set("Retry-After", "2")
	}
	w.Header().Del("Content-Range")
	w.Header().Del("ETag")
	w.Header().Del("Last-Modified")
	w.writeError(status, code, errs.MessageOf(err))
}

func (w *contractErrors) writeError(status int, code errs.Code, msg string) {
	w.failed = true
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Disposition")
	h.Set("Content-Type", "application/json; charset=utf-8")
	if status == http.StatusRequestedRangeNotSatisfiable {
		// ServeContent omits it for a malformed header; RFC 9110 wants the size either way.
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(w.size, 10))
		msg = "the Range header does not fit the content (see Content-Range for its size)"
	}
	w.ResponseWriter.WriteHeader(status) // after every header: later ones are not sent
	_ = json.NewEncoder(w.ResponseWriter).Encode(errorBody{Error: errorDetail{Code: code, Message: msg}})
}

func (w *contractErrors) Write(b []byte) (int, error) {
	if w.failed {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// copyBuffers serve ReadFrom: http.ServeContent copies through an
// io.LimitReader, which hides the content's WriterTo, and this wrapper
// hides the connection's ReaderFrom, so io.Copy would allocate 32 KB for
// every response (a third of an L1 hit's allocations).
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (w *contractErrors) ReadFrom(src io.Reader) (int64, error) {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	return io.CopyBuffer(writerOnly{w}, src, *buf)
}

// writerOnly hides ReadFrom from io.CopyBuffer, which would call it again.
type writerOnly struct{ io.Writer }
