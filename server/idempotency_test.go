package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"docplat/docs"
	"docplat/idempotency"
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

// fakeClaims answers every Begin with claim and compares fingerprints as
// idempotency.Store does for a record that has one.
type fakeClaims struct {
	claim    idempotency.Claim
	finished []string // fingerprints recorded by Finish
}

func (f *fakeClaims) Begin(context.Context, string, string, string) (idempotency.Claim, error) {
	return f.claim, nil
}
func (f *fakeClaims) SameRequest(c idempotency.Claim, fp string) bool { return c.Fingerprint == fp }
func (f *fakeClaims) Finish(_ context.Context, _, _, fp string, _ idempotency.Response) error {
	f.finished = append(f.finished, fp)
	return nil
}
func (f *fakeClaims) Release(context.Context, string, string) error             { return nil }
func (f *fakeClaims) Hold(context.Context, string, string, time.Duration) error { return nil }

// TestProceedAnswersARetryOnlyWithItsOwnRequestsOutcome: a write handler's
// s.proceed lets a request without a key and a first attempt go on, and
// answers a retry itself: the recorded outcome when its fingerprint is the
// first request's, 422 idempotency_key_reused otherwise; a retried delete
// whose first attempt committed without a recorded answer is 204, recorded
// with the stored fingerprint.
func TestProceedAnswersARetryOnlyWithItsOwnRequestsOutcome(t *testing.T) {
	const path = "/api/v1/documents/d1"
	digest := func(ifMatch string) func(*idempotency.Fingerprint) {
		return func(f *idempotency.Fingerprint) { f.Add("If-Match", ifMatch) }
	}
	first := idempotency.NewFingerprint("DELETE " + path)
	digest(`"r1"`)(first)
	recorded := idempotency.Response{Status: 204, Header: map[string]string{}}
	cases := []struct {
		name       string
		claim      *idempotency.Claim // nil: no key
		ifMatch    string
		goOn       bool
		status     int
		code       string
		replayed   bool
		finishedFP string
	}{
		{name: "no key", ifMatch: `"r2"`, goOn: true},
		{name: "first attempt", claim: &idempotency.Claim{Verdict: idempotency.Run}, ifMatch: `"r1"`, goOn: true},
		{name: "identical retry", claim: &idempotency.Claim{Verdict: idempotency.Replay, Response: recorded, Fingerprint: first.Sum()},
			ifMatch: `"r1"`, status: 204, replayed: true},
		{name: "retry with another If-Match", claim: &idempotency.Claim{Verdict: idempotency.Replay, Response: recorded, Fingerprint: first.Sum()},
			ifMatch: `"r2"`, status: 422, code: "idempotency_key_reused"},
		{name: "identical retry of a committed delete", claim: &idempotency.Claim{Verdict: idempotency.Committed, DocumentID: "d1", Fingerprint: first.Sum()},
			ifMatch: `"r1"`, status: 204, replayed: true, finishedFP: first.Sum()},
		{name: "committed delete retried with another If-Match", claim: &idempotency.Claim{Verdict: idempotency.Committed, DocumentID: "d1", Fingerprint: first.Sum()},
			ifMatch: `"r2"`, status: 422, code: "idempotency_key_reused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := &fakeClaims{}
			s := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Idempotency: store}, Options{})
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest("DELETE", path, nil)
			kw := &keyedWrite{user: "u1", key: "key-00000001"}
			if tc.claim != nil {
				store.claim, kw.claim = *tc.claim, *tc.claim
				c.Set(keyedWriteKey, kw)
			}
			goOn := s.proceed(c, digest(tc.ifMatch))
			c.Writer.WriteHeaderNow()
			var body errorBody
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if goOn != tc.goOn {
				t.Fatalf("proceed = %v, want %v (answered %d %s)", goOn, tc.goOn, w.Code, w.Body)
			}
			if !tc.goOn && (w.Code != tc.status || string(body.Error.Code) != tc.code || (w.Header().Get("Idempotent-Replayed") == "true") != tc.replayed) {
				t.Fatalf("answered %d %s (replayed %q), want %d %q replayed %v", w.Code, w.Body, w.Header().Get("Idempotent-Replayed"), tc.status, tc.code, tc.replayed)
			}
			if tc.code != "" && !strings.Contains(body.Error.Message, "different body") {
				t.Fatalf("422 message %q does not say the body differs", body.Error.Message)
			}
			if tc.claim != nil && tc.claim.Verdict == idempotency.Run && kw.fingerprint != first.Sum() {
				t.Fatalf("a first attempt's claim is bound to %q, want %q", kw.fingerprint, first.Sum())
			}
			if got := strings.Join(store.finished, ","); got != tc.finishedFP {
				t.Fatalf("recorded fingerprints %q, want %q", got, tc.finishedFP)
			}
		})
	}
}
