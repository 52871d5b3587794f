package server

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"docplat/depfail"
	"docplat/docs"
	"docplat/errs"
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

func setRetryAfter(c *gin.Context, a retryAdvice) { c.Header("Retry-After", a.value()) }

func (a retryAdvice) value() string { return strconv.Itoa(a.base + rand.IntN(a.jitter+1)) }

// statusOf is the one table from error codes to HTTP statuses. Every
// error answer goes through it (abort), so a code means one status
// everywhere; a code missing here is a bug and answers 500.
var statusOf = map[errs.Code]int{
	errs.BadRequest:           http.StatusBadRequest,
	errs.Unauthorized:         http.StatusUnauthorized,
	errs.Forbidden:            http.StatusForbidden,
	errs.NotFound:             http.StatusNotFound,
	errs.MethodNotAllowed:     http.StatusMethodNotAllowed,
	errs.Conflict:             http.StatusConflict,
	errs.PreconditionFailed:   http.StatusPreconditionFailed,
	errs.TooLarge:             http.StatusRequestEntityTooLarge,
	errs.UnsupportedType:      http.StatusUnsupportedMediaType,
	errs.IdempotencyKeyReused: http.StatusUnprocessableEntity,
	errs.Unprocessable:        http.StatusUnprocessableEntity,
	errs.QuotaExceeded:        http.StatusConflict, // the contract's choice: the state (usage) forbids it
	errs.RateLimited:          http.StatusTooManyRequests,
	errs.Unavailable:          http.StatusServiceUnavailable,
	errs.Internal:             http.StatusInternalServerError,
}

// errorBody is the contract's error body: {"error":{"code","message"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    errs.Code `json:"code"`
	Message string    `json:"message"`
	// Details are figures a client can show (quota_exceeded: quotaDetails); absent otherwise.
	Details any `json:"details,omitempty"`
}

// quotaDetails are the figures of a quota_exceeded answer: what the
// caller's department (or the "none" bucket) uses, its quota and the size
// that did not fit, in bytes.
type quotaDetails struct {
	DepartmentID string `json:"department_id"`
	BytesUsed    *int64 `json:"bytes_used,omitempty"` // absent when the stats service could not say
	QuotaBytes   int64  `json:"quota_bytes"`
	Size         int64  `json:"size"`
}

// abort answers code's status with the contract's error body and stops the chain.
func abort(c *gin.Context, code errs.Code, msg string) {
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{Code: code, Message: msg}})
}

// fail answers err with its code's status and message (see classify).
func (s *Server) fail(c *gin.Context, err error) {
	r := s.classify(c.Request.Context(), err, requestIDOf(c), c.Request.URL.Path)
	switch {
	case r.clientGone:
		c.AbortWithStatus(499)
		return
	case r.inDoubt:
		c.Set(writeInDoubtKey, true)
	}
	if r.coded.Code == errs.Unavailable {
		setRetryAfter(c, dependencyRetryAfter)
	}
	if _, signedIn := caller(c); signedIn && r.quota != nil {
		c.AbortWithStatusJSON(statusOf[errs.QuotaExceeded], errorBody{Error: errorDetail{Code: r.coded.Code, Message: r.coded.Message, Details: s.quotaDetails(c.Request.Context(), r.quota)}})
		return
	}
	abort(c, r.coded.Code, r.coded.Message)
}

// classified is an error as the contract answers it.
type classified struct {
	coded      *errs.Error
	quota      *docs.QuotaError // a quota refusal's figures
	clientGone bool             // nobody reads the answer (499)
	inDoubt    bool             // the write may have committed
}

// classify decides, once, how err is answered: the outermost *errs.Error
// in its chain decides; errors without a code are classified here: a body
// over its limit is too_large, a client gone away gets no answer (499), a
// failing dependency (depfail) is unavailable, and anything else is a 500,
// logged with the request id, whose text never reaches the client. Every
// unavailable answer carries Retry-After (set by the caller).
func (s *Server) classify(ctx context.Context, err error, requestID, path string) classified {
	var (
		out      classified
		coded    *errs.Error
		tooLarge *http.MaxBytesError
	)
	switch {
	case docs.MayHaveCommitted(err):
		// Never "nothing was changed": the write stands or may (documentation/architecture.md, "Read-your-writes").
		s.log.WarnContext(ctx, "write answered before it was readable", "err", err, "request_id", requestID)
		out.inDoubt = true
		errors.As(err, &coded)
	case errors.As(err, &coded):
		switch coded.Code {
		case errs.Unavailable:
			s.log.WarnContext(ctx, "write refused: a dependency is unavailable", "err", err, "request_id", requestID)
		case errs.Internal:
			s.log.ErrorContext(ctx, "request failed", "err", err, "request_id", requestID, "path", path)
		}
	case errors.As(err, &tooLarge):
		coded = &errs.Error{Code: errs.TooLarge, Message: errs.MessageOf(docs.ErrTooLarge)}
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// The client went away; nobody reads this answer.
		out.clientGone = true
		return out
	case errors.Is(err, depfail.ErrUnavailable), depfail.IsTransient(err):
		// IsTransient catches what no opener classified (a deadline
		// passing, a Redis connection error): still a dependency
		// failing, not a bug.
		dep := depfail.Dependency(err)
		if dep == "" {
			dep = "a dependency"
		}
		s.log.WarnContext(ctx, "request refused: a dependency is unavailable", "dependency", dep, "err", err,
			"request_id", requestID, "path", path)
		coded = &errs.Error{Code: errs.Unavailable, Message: dep + " is unreachable or overloaded right now; retry shortly"}
	default:
		s.log.ErrorContext(ctx, "request failed", "err", err, "request_id", requestID, "path", path)
		coded = &errs.Error{Code: errs.Internal, Message: "internal error (request id " + requestID + ")"}
	}
	out.coded = coded
	errors.As(err, &out.quota)
	return out
}

// quotaDetails gives a signed-in caller the figures of its quota refusal
// (fail and the resumable uploads, whose callers are signed in; someone
// uploading through an upload link is not told a department's usage). The
// usage is read after the refusal, so it is the current figure, not the
// one voted on; a stats service that cannot answer leaves it out.
func (s *Server) quotaDetails(ctx context.Context, q *docs.QuotaError) quotaDetails {
	out := quotaDetails{DepartmentID: q.DepartmentID, QuotaBytes: q.QuotaBytes, Size: q.Size}
	if s.deps.Stats != nil {
		usage, err := s.deps.Stats.Departments(ctx, q.DepartmentID)
		if err == nil && len(usage) == 1 {
			out.BytesUsed = &usage[0].BytesUsed
		} else if err != nil {
			s.log.WarnContext(ctx, "quota refusal without its usage figure", "err", err)
		}
	}
	return out
}
