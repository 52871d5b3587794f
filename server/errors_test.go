package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"syscall"
	"testing"

	"github.com/gin-gonic/gin"

	"docplat/accounts"
	"docplat/depfail"
	"docplat/docs"
	"docplat/errs"
)

// failWith answers err through fail, as for r, and returns the recorder,
// the request's context and the decoded error body (zero when there is none).
func failWith(t *testing.T, r *http.Request, err error) (*httptest.ResponseRecorder, *gin.Context, errorBody) {
	t.Helper()
	s := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Options{})
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = r
	s.fail(c, err)
	var body errorBody
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", w.Body, err)
		}
	}
	return w, c, body
}

// TestDomainErrorsMapToContractStatusAndCode pins the one place where
// domain errors become HTTP answers.
func TestDomainErrorsMapToContractStatusAndCode(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{errs.Errorf(errs.BadRequest, "bad title"), 400, "bad_request"},
		{fmt.Errorf("create user: %w", errs.Errorf(errs.BadRequest, "bad name")), 400, "bad_request"},
		{fmt.Errorf("wrapped: %w", docs.ErrNotFound), 404, "not_found"},
		{accounts.ErrNotFound, 404, "not_found"},
		{docs.ErrForbidden, 403, "forbidden"},
		{accounts.ErrForbidden, 403, "forbidden"},
		{docs.ErrUnauthorized, 401, "unauthorized"},
		{accounts.ErrBadCredentials, 401, "unauthorized"},
		{docs.ErrTooLarge, 413, "too_large"},
		{&http.MaxBytesError{Limit: 1}, 413, "too_large"},
		{docs.ErrUnsupportedType, 415, "unsupported_type"},
		{docs.ErrPrecondition, 412, "precondition_failed"},
		{docs.ErrQuota, 409, "quota_exceeded"},
		{errs.Wrap(accounts.ErrConflict, errs.Conflict, "taken"), 409, "conflict"},
		{accounts.ErrConflict, 409, "conflict"},
		{fmt.Errorf("%w: %w", docs.ErrUnavailable, context.Canceled), 503, "unavailable"},
		{fmt.Errorf("%w: %w", accounts.ErrUnavailable, depfail.Wrap("the cache", syscall.ECONNRESET)), 503, "unavailable"},
		{context.DeadlineExceeded, 503, "unavailable"},
		{fmt.Errorf("%w: quorum lost", docs.ErrUnavailable), 503, "unavailable"},
		{accounts.ErrUnavailable, 503, "unavailable"},
		{fmt.Errorf("get document: %w", depfail.Wrap("the database", syscall.ECONNREFUSED)), 503, "unavailable"},
		{depfail.Wrap("the stats service", errors.New("dial tcp: refused")), 503, "unavailable"},
		{fmt.Errorf("redis: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), 503, "unavailable"},
		{errors.New("disk on fire"), 500, "internal"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%T %v", tc.err, tc.err), func(t *testing.T) {
			w, _, body := failWith(t, httptest.NewRequest("GET", "/", nil), tc.err)
			if w.Code != tc.status || string(body.Error.Code) != tc.code || body.Error.Message == "" {
				t.Fatalf("got %d %+v, want %d %s", w.Code, body, tc.status, tc.code)
			}
			if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); tc.status == 503 && (err != nil || ra < 1) {
				t.Fatalf("503 without a usable Retry-After: %q", w.Header().Get("Retry-After"))
			}
			if tc.status == 500 && body.Error.Message == "disk on fire" {
				t.Fatal("an internal error's text reached the client")
			}
		})
	}
}

// TestEveryCodeHasItsContractStatus pins the table: each code of the
// vocabulary answers its status, with the contract's body carrying the
// code and the error's message unchanged.
func TestEveryCodeHasItsContractStatus(t *testing.T) {
	want := map[errs.Code]int{
		errs.BadRequest:           400,
		errs.Unauthorized:         401,
		errs.Forbidden:            403,
		errs.NotFound:             404,
		errs.MethodNotAllowed:     405,
		errs.Conflict:             409,
		errs.PreconditionFailed:   412,
		errs.TooLarge:             413,
		errs.UnsupportedType:      415,
		errs.IdempotencyKeyReused: 422,
		errs.Unprocessable:        422,
		errs.QuotaExceeded:        409,
		errs.RateLimited:          429,
		errs.Unavailable:          503,
		errs.Internal:             500,
	}
	for _, code := range errs.Codes() {
		t.Run(string(code), func(t *testing.T) {
			status, ok := want[code]
			if !ok {
				t.Fatalf("code %q has no status in this test: add the contract's status", code)
			}
			msg := "what the caller is told about " + string(code)
			w, _, _ := failWith(t, httptest.NewRequest("GET", "/", nil), fmt.Errorf("handler: %w", errs.Wrap(errors.New("secret cause"), code, msg)))
			if w.Code != status {
				t.Fatalf("status %d, want %d", w.Code, status)
			}
			var body map[string]map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if got := body["error"]; len(body) != 1 || len(got) != 2 || got["code"] != string(code) || got["message"] != msg {
				t.Fatalf("body %s, want {\"error\":{\"code\":%q,\"message\":%q}}", w.Body, code, msg)
			}
			if ra := w.Header().Get("Retry-After"); (status == 503) != (ra != "") {
				t.Fatalf("Retry-After %q on a %d", ra, status)
			}
		})
	}
}

// TestDomainSentinelsAnswerTheirMessages: a sentinel's message is what the
// client reads, so the answers stay those the contract's tests know.
func TestDomainSentinelsAnswerTheirMessages(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{docs.ErrNotFound, "document not found"},
		{accounts.ErrNotFound, "not found"},
		{docs.ErrForbidden, "you are not allowed to do this"},
		{accounts.ErrForbidden, "you are not allowed to do this"},
		{docs.ErrUnauthorized, "sign in first (Authorization: Bearer <token> or the session cookie)"},
		{accounts.ErrBadCredentials, "invalid username or password"},
		{&http.MaxBytesError{Limit: 1}, "the upload exceeds the size limit"},
		{docs.ErrQuota, "the department's storage quota would be exceeded"},
		{fmt.Errorf("%w: %w", docs.ErrUnavailable, depfail.Wrap("the database", syscall.ECONNREFUSED)),
			"the change could not be made right now (the lock service, the cache or a service in its transaction did not answer in time); nothing was changed, retry shortly"},
		{depfail.Wrap("the stats service", errors.New("dial tcp: refused")), "the stats service is unreachable or overloaded right now; retry shortly"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			if _, _, body := failWith(t, httptest.NewRequest("GET", "/", nil), tc.err); body.Error.Message != tc.want {
				t.Fatalf("message %q, want %q", body.Error.Message, tc.want)
			}
		})
	}
}

func TestAClientGoneAwayGetsNoAnswer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w, c, _ := failWith(t, httptest.NewRequest("GET", "/", nil).WithContext(ctx), fmt.Errorf("search: %w", context.Canceled))
	if c.Writer.Status() != 499 || w.Body.Len() != 0 {
		t.Fatalf("status %d body %q, want 499 and no body", c.Writer.Status(), w.Body)
	}
}

func TestCSRFValueIsBoundToTheSession(t *testing.T) {
	a, b := csrfFor("session-a"), csrfFor("session-b")
	if a == b || a != csrfFor("session-a") || len(a) != 32 {
		t.Fatalf("csrfFor: %q %q", a, b)
	}
}
