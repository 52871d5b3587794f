package server

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"docplat/docs"
)

// TestCommittedOrInDoubtWritesAreNeverAnsweredNothingChanged: a write that
// committed (not yet readable) or may still commit is a 503 with
// Retry-After whose message says so, and it marks the request so that the
// Idempotency-Key claim is held, not released; a refused write says
// nothing changed and releases it.
func TestCommittedOrInDoubtWritesAreNeverAnsweredNothingChanged(t *testing.T) {
	s := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Options{})
	cases := []struct {
		err     error
		says    string
		inDoubt bool
	}{
		{fmt.Errorf("%w: busy", docs.ErrNotYetReadable), "committed but not readable yet", true},
		{fmt.Errorf("%w: crash", docs.ErrInDoubt), "outcome is not known yet", true},
		{fmt.Errorf("%w: aborted", docs.ErrUnavailable), "nothing was changed", false},
	}
	for _, tc := range cases {
		t.Run(tc.says, func(t *testing.T) {
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest("POST", "/api/v1/documents", nil)
			s.fail(c, tc.err)
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if w.Code != 503 || body.Error.Code != "unavailable" || w.Header().Get("Retry-After") == "" ||
				!strings.Contains(body.Error.Message, tc.says) || c.GetBool(writeInDoubtKey) != tc.inDoubt {
				t.Fatalf("got %d %+v (Retry-After %q, in doubt %v)", w.Code, body, w.Header().Get("Retry-After"), c.GetBool(writeInDoubtKey))
			}
			if tc.inDoubt && strings.Contains(body.Error.Message, "nothing was changed") {
				t.Fatalf("a committed or in-doubt write answered %q", body.Error.Message)
			}
		})
	}
}
