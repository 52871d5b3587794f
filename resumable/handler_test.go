package resumable

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"

	"docplat/errs"
)

// TestTusErrorsGetTheContractBody: tusd's own plain-text refusals are
// rewritten into the contract's error body through the server's rendering;
// the status tus clients act on (409 offset, 423 locked) is kept, and
// answers that are not plain-text errors pass through untouched.
func TestTusErrorsGetTheContractBody(t *testing.T) {
	var rendered []errs.Code
	p := &Protocol{refuse: func(_ context.Context, err error) handler.HTTPResponse {
		rendered = append(rendered, errs.CodeOf(err))
		b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": string(errs.CodeOf(err)), "message": errs.MessageOf(err)}})
		return handler.HTTPResponse{StatusCode: 999, Body: string(b), Header: handler.HTTPHeader{"Content-Type": "application/json"}}
	}}
	for _, tc := range []struct {
		tusErr     handler.Error
		wantStatus int
		wantCode   errs.Code
	}{
		{handler.ErrMismatchOffset, http.StatusConflict, errs.Conflict},
		{handler.ErrFileLocked, http.StatusLocked, errs.Conflict},
		{handler.ErrNotFound, http.StatusNotFound, errs.NotFound},
		{handler.ErrSizeExceeded, http.StatusRequestEntityTooLarge, errs.TooLarge},
		{handler.ErrInvalidOffset, http.StatusBadRequest, errs.BadRequest},
		{errLocksDown, http.StatusServiceUnavailable, errs.Unavailable},
	} {
		rec := httptest.NewRecorder()
		w := &tusWriter{ResponseWriter: rec}
		r := httptest.NewRequest(http.MethodPatch, "/api/v1/uploads/x", nil)
		for k, v := range tc.tusErr.HTTPResponse.Header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(tc.tusErr.HTTPResponse.StatusCode)
		_, _ = w.Write([]byte(tc.tusErr.HTTPResponse.Body))
		w.flush(r, p)
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != tc.wantStatus || body.Error.Code != string(tc.wantCode) || body.Error.Message == "" {
			t.Errorf("%s: %d %q, want %d with code %s", tc.tusErr.ErrorCode, rec.Code, rec.Body.String(), tc.wantStatus, tc.wantCode)
		}
	}
	// A success, and a refusal already rendered as JSON, pass through.
	rec := httptest.NewRecorder()
	w := &tusWriter{ResponseWriter: rec}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusConflict)
	_, _ = w.Write([]byte(`{"error":{"code":"quota_exceeded","message":"m"}}`))
	w.flush(httptest.NewRequest(http.MethodPatch, "/", nil), p)
	if rec.Code != http.StatusConflict || rec.Body.String() != `{"error":{"code":"quota_exceeded","message":"m"}}` {
		t.Fatalf("a JSON refusal was rewritten: %d %s", rec.Code, rec.Body.String())
	}
	if len(rendered) != 6 {
		t.Fatalf("rendered %d errors, want 6", len(rendered))
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (Options{Expiry: 24 * time.Hour, MaxUnfinished: 20}).Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Options{Expiry: time.Second, MaxUnfinished: 0}).Validate(); err == nil {
		t.Fatal("an expiry of 1s and no uploads were accepted")
	}
}
