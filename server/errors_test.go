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
)

// TestDomainErrorsMapToContractStatusAndCode pins the one place where
// domain errors become HTTP answers.
func TestDomainErrorsMapToContractStatusAndCode(t *testing.T) {
	s := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Options{})
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{&docs.InvalidError{Msg: "bad title"}, 400, "bad_request"},
		{&accounts.InvalidError{Msg: "bad name"}, 400, "bad_request"},
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
		{&accounts.ConflictError{Msg: "taken"}, 409, "conflict"},
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
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest("GET", "/", nil)
			s.fail(c, tc.err)
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if w.Code != tc.status || body.Error.Code != tc.code || body.Error.Message == "" {
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

func TestCSRFValueIsBoundToTheSession(t *testing.T) {
	a, b := csrfFor("session-a"), csrfFor("session-b")
	if a == b || a != csrfFor("session-a") || len(a) != 32 {
		t.Fatalf("csrfFor: %q %q", a, b)
	}
}
