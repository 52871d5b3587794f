package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"docplat/admission"
	"docplat/errs"
)

// TestPreviewRendersOverTheirBoundAre503: with the one preview slot taken,
// the next render is shed as unavailable, which answers 503 with
// Retry-After (never 500).
func TestPreviewRendersOverTheirBoundAre503(t *testing.T) {
	s := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Options{Admission: admission.Config{
		admission.Preview: {Concurrency: 1, MaxWait: 0, Queue: 1},
	}})
	release, err := s.previewGate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = s.previewGate(context.Background())
	if errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("a render over the bound: %v", err)
	}
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "/api/v1/documents/x/preview?page=1", nil)
	s.fail(c, err)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("shed render answered %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}

func TestNoneMatch(t *testing.T) {
	etag := `"pv1-abc-1-240"`
	for header, want := range map[string]bool{
		etag: true, `W/` + etag: true, `"x", ` + etag: true, "*": true,
		"": false, `"pv1-abc-1-480"`: false, `pv1-abc-1-240`: false,
	} {
		if got := noneMatch(header, etag); got != want {
			t.Errorf("noneMatch(%q) = %v, want %v", header, got, want)
		}
	}
}
