package server

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"docplat/docs"
)

// TestCommittedOrInDoubtWritesAreNeverAnsweredNothingChanged: a write that
// committed (not yet readable) or may still commit is a 503 with
// Retry-After whose message says so, and it marks the request so that the
// Idempotency-Key claim is held, not released; a refused write says
// nothing changed and releases it.
func TestCommittedOrInDoubtWritesAreNeverAnsweredNothingChanged(t *testing.T) {
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
			w, c, body := failWith(t, httptest.NewRequest("POST", "/api/v1/documents", nil), tc.err)
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
