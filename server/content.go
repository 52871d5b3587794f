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
	d, v, f, err := s.deps.Docs.Content(c, who, c.Param("id"), version)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer f.Close()
	kind, download := docs.AccessView, c.Query("download") == "1"
	if download {
		kind = docs.AccessDownload
	}
	if c.Request.Method == http.MethodGet {
		s.deps.Docs.RecordContentRead(c, who, d, kind, v.Size)
	}
	policy := docs.ContentPolicy(d, v)
	policy.SetHeader(c.Writer.Header(), download)
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
	http.ServeContent(&contractErrors{ResponseWriter: c.Writer, size: v.Size}, req, "", policy.Modified, f)
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
}

func (w *contractErrors) WriteHeader(status int) {
	if status < 400 {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.failed = true
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Disposition")
	h.Set("Content-Type", "application/json; charset=utf-8")
	// The status is ServeContent's (416, or a 400 for a malformed request):
	// the contract gives a refused Range no code of its own.
	code, msg := errs.BadRequest, http.StatusText(status)
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
