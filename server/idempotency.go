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
	SameRequest(c idempotency.Claim, fingerprint string) bool
	Finish(ctx context.Context, user, key, fingerprint string, resp idempotency.Response) error
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

// keyedWrite is a write made under an Idempotency-Key, kept in the Gin
// context between s.idempotent and the handler's call to s.proceed.
type keyedWrite struct {
	user, key   string
	claim       idempotency.Claim
	fingerprint string // set by proceed
}

const keyedWriteKey = "idempotency_keyed_write"

func keyedWriteOf(c *gin.Context) (*keyedWrite, bool) {
	v, ok := c.Get(keyedWriteKey)
	if !ok {
		return nil, false
	}
	w, ok := v.(*keyedWrite)
	return w, ok
}

// idempotent makes a write safe to retry: under an Idempotency-Key the
// first outcome (status, the headers above, body) is recorded for the
// caller and the request, and a retry gets it back instead of running the
// write again, on any instance, for the store's retention (24 h). A key
// reused for another method or path is 422 at once; a retry while the
// first is still running is 409 with Retry-After. Otherwise the handler
// reads the request far enough to fingerprint it (an upload is streamed to
// the staging area, never held in memory) and calls s.proceed, which
// replays the first outcome only to the same request (422 to another) and
// lets a first attempt go on. Every route behind it must call s.proceed
// before it changes anything.
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
	claim, err := store.Begin(c.Request.Context(), u.ID, key, requestLine(c))
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "idempotency record unavailable", "err", err, "request_id", requestIDOf(c))
		c.Header("Retry-After", "2")
		abort(c, errs.Unavailable, "the Idempotency-Key cannot be checked right now; nothing was changed, retry shortly")
		return
	}
	w := &keyedWrite{user: u.ID, key: key, claim: claim}
	switch claim.Verdict {
	case idempotency.Mismatch:
		abort(c, errs.IdempotencyKeyReused,
			"this Idempotency-Key was already used for a different request (another method or path); use a new key for a new request")
	case idempotency.InFlight:
		c.Header("Retry-After", "1")
		abort(c, errs.Conflict, "a request with this Idempotency-Key is still in progress; retry shortly to get its outcome")
	case idempotency.Run:
		s.runRecorded(c, w)
	default: // Replay, Committed: the handler fingerprints the retry and s.proceed answers it
		c.Set(keyedWriteKey, w)
		c.Next()
		if w.fingerprint == "" && !c.Writer.Written() {
			// A route behind s.idempotent that never called s.proceed: a bug.
			s.log.ErrorContext(c.Request.Context(), "a retried write under an Idempotency-Key was not compared with its first request", "route", c.FullPath())
		}
	}
}

func requestLine(c *gin.Context) string { return c.Request.Method + " " + c.Request.URL.Path }

// retrying reports whether the request is a retry under an Idempotency-Key
// whose first attempt has an outcome: the handler only reads it far enough
// to call s.proceed, which answers it. Checks of the document's current
// state do not apply (the first attempt may have changed it: a replayed new
// version's If-Match no longer matches).
func retrying(c *gin.Context) bool {
	w, ok := keyedWriteOf(c)
	return ok && w.claim.Verdict != idempotency.Run
}

// proceed is called by every write handler behind s.idempotent once it
// holds what determines the write, before it changes anything; add digests
// it (the content's sha256, the fields, If-Match) into the request's
// fingerprint. Without a key it returns true. A first attempt's fingerprint
// is bound to its claim (the commit stores it with its mark) and it returns
// true: go on. A retry is answered, and it returns false: the first outcome
// if its fingerprint is the first request's, else 422.
func (s *Server) proceed(c *gin.Context, add func(*idempotency.Fingerprint)) bool {
	w, ok := keyedWriteOf(c)
	if !ok {
		return true
	}
	f := idempotency.NewFingerprint(requestLine(c))
	add(f)
	w.fingerprint = f.Sum()
	if w.claim.Verdict == idempotency.Run {
		c.Request = c.Request.WithContext(docs.WithIdempotencyKey(c.Request.Context(),
			docs.IdempotencyRef{UserID: w.user, Key: w.key, Fingerprint: w.fingerprint}))
		return true
	}
	switch {
	case !s.deps.Idempotency.SameRequest(w.claim, w.fingerprint):
		abort(c, errs.IdempotencyKeyReused,
			"this Idempotency-Key was already used for the same method and path with a different body or precondition "+
				"(file, fields or If-Match differ); its first outcome is not replayed to another request: use a new key for a new request")
	case w.claim.Verdict == idempotency.Replay:
		replay(c, w.claim.Response)
	default:
		s.replayCommitted(c, w)
	}
	return false
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
func (s *Server) replayCommitted(c *gin.Context, w *keyedWrite) {
	rec := &recorder{ResponseWriter: c.Writer}
	c.Writer = rec
	c.Header("Idempotent-Replayed", "true")
	if c.Request.Method == http.MethodDelete {
		c.Status(http.StatusNoContent)
		c.Writer.WriteHeaderNow()
	} else {
		d, err := s.deps.Docs.Get(c.Request.Context(), actor(c), w.claim.DocumentID)
		if err != nil {
			s.fail(c, err)
			c.Abort()
			return
		}
		status := http.StatusOK
		if c.Request.Method == http.MethodPost && c.FullPath() == "/api/v1/documents" { // not a restore
			status = http.StatusCreated
			c.Header("Location", "/api/v1/documents/"+d.ID)
		}
		c.Header("ETag", metaETag(d))
		c.JSON(status, d)
	}
	c.Abort()
	// The stored fingerprint, not this retry's: a record made without one
	// does not get bound to whichever retry came first.
	if err := s.deps.Idempotency.Finish(c.Request.Context(), w.user, w.key, w.claim.Fingerprint, rec.response()); err != nil {
		s.log.WarnContext(c.Request.Context(), "recording a rebuilt idempotent answer", "err", err)
	}
}

// settleTimeout bounds settling a key once its request has ended.
const settleTimeout = 5 * time.Second

// runRecorded runs the write under the claim and settles the claim by its
// answer: recorded with the request's fingerprint when the write is decided
// (2xx, and 4xx that refused it after s.proceed), held when the write may
// still commit, released when it changed nothing and a retry should run
// it: failures (5xx, 429, 408, 499) and refusals given before the request
// was read in full (a malformed body, a failed early check), whose request
// has no fingerprint to bind the key to.
func (s *Server) runRecorded(c *gin.Context, w *keyedWrite) {
	store := s.deps.Idempotency
	user, key := w.user, w.key
	rec := &recorder{ResponseWriter: c.Writer}
	c.Writer = rec
	c.Set(keyedWriteKey, w)
	// Marked by the commit even if a handler failed to call s.proceed
	// (then without a fingerprint): a retry never runs a committed write again.
	c.Request = c.Request.WithContext(docs.WithIdempotencyKey(c.Request.Context(), docs.IdempotencyRef{UserID: user, Key: key}))
	defer func() {
		if v := recover(); v != nil {
			_ = store.Release(c.Request.Context(), user, key)
			panic(v)
		}
	}()
	c.Next()
	status := rec.Status()
	// Settling outlives the request on purpose: a client that went away
	// (499) still leaves a key that must be released or held for its retry.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), settleTimeout)
	defer cancel()
	var err error
	switch {
	case c.GetBool(writeInDoubtKey):
		err = store.Hold(ctx, user, key, idempotency.InDoubtLease)
	case status >= 500 || status == 499 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || rec.overflow,
		w.fingerprint == "":
		err = store.Release(ctx, user, key)
	default:
		err = store.Finish(ctx, user, key, w.fingerprint, rec.response())
	}
	if err != nil {
		// The commit mark (written with the change) still stops a retry
		// from running the write again.
		s.log.WarnContext(ctx, "settling an idempotency key", "err", err, "status", status, "request_id", requestIDOf(c))
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
