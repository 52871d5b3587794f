package server

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"docplat/accounts"
	"docplat/depfail"
	"docplat/docs"
)

// Retry-After advice, in whole seconds (the header's unit), spread by
// jitter so that refused clients do not come back in one wave: a shed
// request may retry soon (the queue drains in well under a second); a
// failing dependency needs longer to come back.
var (
	shedRetryAfter       = retryAdvice{base: 1, jitter: 1}
	dependencyRetryAfter = retryAdvice{base: 2, jitter: 3}
)

type retryAdvice struct{ base, jitter int }

func setRetryAfter(c *gin.Context, a retryAdvice) {
	c.Header("Retry-After", strconv.Itoa(a.base+rand.IntN(a.jitter+1)))
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// abort answers with the contract's error body and stops the chain.
func abort(c *gin.Context, status int, code, msg string) {
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{Code: code, Message: msg}})
}

// fail maps a domain error to its status and code. Unknown errors are 500s,
// logged with the request id; their text never reaches the client.
func (s *Server) fail(c *gin.Context, err error) {
	var (
		dInvalid *docs.InvalidError
		aInvalid *accounts.InvalidError
		conflict *accounts.ConflictError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &dInvalid):
		abort(c, http.StatusBadRequest, "bad_request", dInvalid.Msg)
	case errors.As(err, &aInvalid):
		abort(c, http.StatusBadRequest, "bad_request", aInvalid.Msg)
	case errors.As(err, &conflict):
		abort(c, http.StatusConflict, "conflict", conflict.Msg)
	case errors.Is(err, accounts.ErrConflict):
		abort(c, http.StatusConflict, "conflict", "conflict")
	case errors.Is(err, docs.ErrNotFound):
		abort(c, http.StatusNotFound, "not_found", "document not found")
	case errors.Is(err, accounts.ErrNotFound):
		abort(c, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, docs.ErrForbidden), errors.Is(err, accounts.ErrForbidden):
		abort(c, http.StatusForbidden, "forbidden", "you are not allowed to do this")
	case errors.Is(err, docs.ErrUnauthorized), errors.Is(err, accounts.ErrUnauthorized):
		abort(c, http.StatusUnauthorized, "unauthorized", "sign in first (Authorization: Bearer <token> or the session cookie)")
	case errors.Is(err, accounts.ErrBadCredentials):
		abort(c, http.StatusUnauthorized, "unauthorized", accounts.ErrBadCredentials.Error())
	case errors.Is(err, docs.ErrTooLarge), errors.As(err, &tooLarge):
		abort(c, http.StatusRequestEntityTooLarge, "too_large", "the upload exceeds the size limit")
	case errors.Is(err, docs.ErrUnsupportedType):
		abort(c, http.StatusUnsupportedMediaType, "unsupported_type", "this file type is not allowed (allowed: text, Markdown, HTML, CSV, JSON, PDF, images, Office and OpenDocument files, zip)")
	case errors.Is(err, docs.ErrPrecondition):
		abort(c, http.StatusPreconditionFailed, "precondition_failed", docs.ErrPrecondition.Error())
	case errors.Is(err, docs.ErrNotYetReadable), errors.Is(err, docs.ErrInDoubt):
		// Never "nothing was changed": the write stands or may (README, "Read-your-writes").
		s.log.WarnContext(c, "write answered before it was readable", "err", err, "request_id", requestIDOf(c))
		c.Set(writeInDoubtKey, true)
		setRetryAfter(c, dependencyRetryAfter)
		msg := "the change is committed but not readable yet; it will be applied without further action: do not repeat it (a retry with the same Idempotency-Key returns its outcome)"
		if errors.Is(err, docs.ErrInDoubt) {
			msg = "the change's outcome is not known yet (it will be decided without further action, normally as done): do not repeat it blindly (a retry with the same Idempotency-Key returns its outcome)"
		}
		abort(c, http.StatusServiceUnavailable, "unavailable", msg)
	case errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil:
		// The client went away; nobody reads this answer.
		c.AbortWithStatus(499)
	case errors.Is(err, depfail.ErrUnavailable), depfail.IsTransient(err):
		// IsTransient catches what no opener classified (a deadline
		// passing, a Redis connection error): still a dependency
		// failing, not a bug.
		dep := depfail.Dependency(err)
		if dep == "" {
			dep = "a dependency"
		}
		s.log.WarnContext(c, "request refused: a dependency is unavailable", "dependency", dep, "err", err,
			"request_id", requestIDOf(c), "path", c.Request.URL.Path)
		setRetryAfter(c, dependencyRetryAfter)
		abort(c, http.StatusServiceUnavailable, "unavailable", dep+" is unreachable or overloaded right now; retry shortly")
	case errors.Is(err, docs.ErrUnavailable), errors.Is(err, accounts.ErrUnavailable):
		s.log.WarnContext(c, "write refused: a dependency is unavailable", "err", err, "request_id", requestIDOf(c))
		setRetryAfter(c, dependencyRetryAfter)
		abort(c, http.StatusServiceUnavailable, "unavailable", "the change could not be made right now (the lock service, the cache or a service in its transaction did not answer in time); nothing was changed, retry shortly")
	case errors.Is(err, docs.ErrQuota):
		abort(c, http.StatusConflict, "quota_exceeded", docs.ErrQuota.Error())
	default:
		s.log.ErrorContext(c, "request failed", "err", err, "request_id", requestIDOf(c), "path", c.Request.URL.Path)
		abort(c, http.StatusInternalServerError, "internal", "internal error (request id "+requestIDOf(c)+")")
	}
}
