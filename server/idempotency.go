package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"docplat/docs"
	"docplat/errs"
	"docplat/idempotency"
)

// IdempotencyStore keeps the first outcome of writes made under an
// Idempotency-Key (idempotency.Store).
type IdempotencyStore interface {
	Begin(ctx context.Context, user, key, request string) (idempotency.Claim, error)
	Finish(ctx context.Context, user, key string, resp idempotency.Response) error
	Release(ctx context.Context, user, key string) error
	Hold(ctx context.Context, user, key string, d time.Duration) error
}

// writeInDoubtKey marks an answer after which the write may still commit
// (fail sets it): the key's claim is held, not released.
const writeInDoubtKey = "write_in_doubt"

// maxRecordedBody bounds what is kept of an answer (documents' JSON is small).
const maxRecordedBody = 256 << 10

// replayedHeaders are the headers of an answer worth replaying.
var replayedHeaders = []string{"Content-Type", "Location", "ETag"}

// idempotent makes a write safe to retry: under an Idempotency-Key the
// first outcome (status, the headers above, body) is recorded for the
// caller and the request (method and path), and a retry gets it back
// instead of running the write again, on any instance, for the store's
// retention (24 h). A key reused for another request is 422; a retry
// while the first is still running is 409 with Retry-After.
func (s *Server) idempotent(c *gin.Context) {
	if len(c.Request.Header.Values("Idempotency-Key")) == 0 || s.deps.Idempotency == nil {
		c.Next()
		return
	}
	key := c.GetHeader("Idempotency-Key")
	if err := idempotency.CheckKey(key); err != nil || len(c.Request.Header.Values("Idempotency-Key")) > 1 {
		abort(c, errs.BadRequest, idempotency.ErrInvalidKey.Error()+" (one header)")
		return
	}
	u, ok := caller(c)
	if !ok {
		c.Next() // the handler answers 401; nothing to remember
		return
	}
	store := s.deps.Idempotency
	request := c.Request.Method + " " + c.Request.URL.Path
	claim, err := store.Begin(c, u.ID, key, request)
	if err != nil {
		s.log.WarnContext(c, "idempotency record unavailable", "err", err, "request_id", requestIDOf(c))
		c.Header("Retry-After", "2")
		abort(c, errs.Unavailable, "the Idempotency-Key cannot be checked right now; nothing was changed, retry shortly")
		return
	}
	switch claim.Verdict {
	case idempotency.Mismatch:
		abort(c, errs.IdempotencyKeyReused,
			"this Idempotency-Key was already used for a different request; use a new key for a new request")
	case idempotency.InFlight:
		c.Header("Retry-After", "1")
		abort(c, errs.Conflict, "a request with this Idempotency-Key is still in progress; retry shortly to get its outcome")
	case idempotency.Replay:
		replay(c, claim.Response)
	case idempotency.Committed:
		s.replayCommitted(c, u.ID, key, claim.DocumentID)
	case idempotency.Run:
		s.runRecorded(c, u.ID, key)
	}
}

func replay(c *gin.Context, r idempotency.Response) {
	for k, v := range r.Header {
		c.Header(k, v)
	}
	c.Header("Idempotent-Replayed", "true")
	c.Status(r.Status)
	if len(r.Body) > 0 {
		_, _ = c.Writer.Write(r.Body)
	}
	c.Abort()
}

// replayCommitted answers a retry whose first attempt committed but never
// recorded its answer (it died, or its answer was in doubt): the answer is
// rebuilt from the document as it is now.
func (s *Server) replayCommitted(c *gin.Context, user, key, id string) {
	rec := &recorder{ResponseWriter: c.Writer}
	c.Writer = rec
	c.Header("Idempotent-Replayed", "true")
	if c.Request.Method == http.MethodDelete {
		c.Status(http.StatusNoContent)
		c.Writer.WriteHeaderNow()
	} else {
		d, err := s.deps.Docs.Get(c, actor(c), id)
		if err != nil {
			s.fail(c, err)
			c.Abort()
			return
		}
		status := http.StatusOK
		if c.Request.Method == http.MethodPost {
			status = http.StatusCreated
			c.Header("Location", "/api/v1/documents/"+d.ID)
		}
		c.Header("ETag", metaETag(d))
		c.JSON(status, d)
	}
	c.Abort()
	if err := s.deps.Idempotency.Finish(c, user, key, rec.response()); err != nil {
		s.log.WarnContext(c, "recording a rebuilt idempotent answer", "err", err)
	}
}

// runRecorded runs the write under the claim and settles the claim by its
// answer: recorded when the write is decided (2xx, and 4xx that refused
// it), held when the write may still commit, released when it changed
// nothing and a retry should run it.
func (s *Server) runRecorded(c *gin.Context, user, key string) {
	store := s.deps.Idempotency
	rec := &recorder{ResponseWriter: c.Writer}
	c.Writer = rec
	c.Request = c.Request.WithContext(docs.WithIdempotencyKey(c.Request.Context(), docs.IdempotencyRef{UserID: user, Key: key}))
	defer func() {
		if v := recover(); v != nil {
			_ = store.Release(c, user, key)
			panic(v)
		}
	}()
	c.Next()
	status := rec.Status()
	var err error
	switch {
	case c.GetBool(writeInDoubtKey):
		err = store.Hold(c, user, key, idempotency.InDoubtLease)
	case status >= 500 || status == 499 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || rec.overflow:
		err = store.Release(c, user, key)
	default:
		err = store.Finish(c, user, key, rec.response())
	}
	if err != nil {
		// The commit mark (written with the change) still stops a retry
		// from running the write again.
		s.log.WarnContext(c, "settling an idempotency key", "err", err, "status", status, "request_id", requestIDOf(c))
	}
}

// recorder keeps a copy of the answer as it is written.
type recorder struct {
	gin.ResponseWriter
	body     []byte
	overflow bool
}

func (r *recorder) keep(b []byte) {
	if len(r.body)+len(b) > maxRecordedBody {
		r.overflow = true
		return
	}
	r.body = append(r.body, b...)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.keep(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) WriteString(s string) (int, error) {
	r.keep([]byte(s))
	return r.ResponseWriter.WriteString(s)
}

func (r *recorder) response() idempotency.Response {
	h := map[string]string{}
	for _, k := range replayedHeaders {
		if v := r.Header().Get(k); v != "" {
			h[k] = v
		}
	}
	return idempotency.Response{Status: r.Status(), Header: h, Body: r.body}
}
