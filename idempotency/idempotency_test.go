package idempotency_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"gorm.io/gorm"

	"docplat/idempotency"
	"docplat/internal/testdb"
	"docplat/sqlstore"
)

func openStore(t *testing.T, b testdb.Backend, opt idempotency.Options) (*idempotency.Store, *sqlstore.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{MySQLDSN: testdb.DSNFor(t, b), DataDir: t.TempDir(), MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return idempotency.New(db.Gorm(), opt), db
}

// TestClaimLifecycle walks a key through every verdict: the first request
// runs, a concurrent one is in flight, a different request is a mismatch,
// the recorded answer is replayed, a released claim runs again, a claim
// the commit marked answers from the mark, an abandoned claim is taken over
// once its lease passes, and expired records are collected.
func TestClaimLifecycle(t *testing.T) {
	for _, b := range testdb.Backends {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			s, db := openStore(t, b, idempotency.Options{Lease: 300 * time.Millisecond, Retention: time.Hour})
			const req = "POST /api/v1/documents"
			verdict := func(user, key, request string, want idempotency.Verdict) idempotency.Claim {
				t.Helper()
				c, err := s.Begin(ctx, user, key, request)
				if err != nil || c.Verdict != want {
					t.Fatalf("Begin(%s, %s, %s) = %+v, %v; want verdict %d", user, key, request, c, err, want)
				}
				return c
			}
			verdict("u1", "key-00000001", req, idempotency.Run)
			verdict("u1", "key-00000001", req, idempotency.InFlight)
			verdict("u1", "key-00000001", "DELETE /api/v1/documents/x", idempotency.Mismatch)
			verdict("u2", "key-00000001", req, idempotency.Run) // scoped to the user

			resp := idempotency.Response{Status: 201, Header: map[string]string{"Location": "/api/v1/documents/d1", "Content-Type": "application/json"}, Body: []byte(`{"id":"d1"}`)}
			if err := s.Finish(ctx, "u1", "key-00000001", "", resp); err != nil {
				t.Fatal(err)
			}
			c := verdict("u1", "key-00000001", req, idempotency.Replay)
			if c.Response.Status != 201 || string(c.Response.Body) != `{"id":"d1"}` || c.Response.Header["Location"] != "/api/v1/documents/d1" {
				t.Fatalf("replayed %+v", c.Response)
			}

			// Released (the write changed nothing): a retry runs it.
			if err := s.Release(ctx, "u2", "key-00000001"); err != nil {
				t.Fatal(err)
			}
			verdict("u2", "key-00000001", req, idempotency.Run)

			// Marked by the commit: answered from the mark, never released.
			if err := idempotency.MarkCommitted(db.Gorm(), "u2", "key-00000001", "d2", ""); err != nil {
				t.Fatal(err)
			}
			if err := s.Release(ctx, "u2", "key-00000001"); err != nil {
				t.Fatal(err)
			}
			if c := verdict("u2", "key-00000001", req, idempotency.Committed); c.DocumentID != "d2" {
				t.Fatalf("committed claim names %q", c.DocumentID)
			}

			// Abandoned without a commit: taken over once the lease passed.
			verdict("u3", "key-00000003", req, idempotency.Run)
			time.Sleep(400 * time.Millisecond)
			verdict("u3", "key-00000003", req, idempotency.Run)
			verdict("u3", "key-00000003", req, idempotency.InFlight)

			// Expired records are collected; the key starts afresh.
			short, _ := openStore(t, b, idempotency.Options{Retention: 200 * time.Millisecond})
			verdict2 := func(want idempotency.Verdict) {
				t.Helper()
				if c, err := short.Begin(ctx, "u4", "key-00000004", req); err != nil || c.Verdict != want {
					t.Fatalf("Begin = %+v, %v; want %d", c, err, want)
				}
			}
			verdict2(idempotency.Run)
			if err := short.Finish(ctx, "u4", "key-00000004", "", resp); err != nil {
				t.Fatal(err)
			}
			verdict2(idempotency.Replay)
			time.Sleep(300 * time.Millisecond)
			if n, err := short.Collect(ctx); err != nil || n != 1 {
				t.Fatalf("Collect = %d, %v; want 1", n, err)
			}
			verdict2(idempotency.Run)
		})
	}
}

// TestRetryIsReplayedOnlyToTheRequestItsOutcomeAnswers: the fingerprint
// stored with the commit mark (in the participant's transaction) or with a
// recorded answer comes back with the claim, and SameRequest accepts only
// that fingerprint; a record without one (made before fingerprints were
// kept) or of another scheme falls back to method and path.
func TestRetryIsReplayedOnlyToTheRequestItsOutcomeAnswers(t *testing.T) {
	for _, b := range testdb.Backends {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			reg := prometheus.NewRegistry()
			s, db := openStore(t, b, idempotency.Options{Retention: time.Hour, Registerer: reg})
			const req = "POST /api/v1/documents"
			first := idempotency.NewFingerprint(req).Add("sha256", "aa").Add("title", "Notes").Sum()
			other := idempotency.NewFingerprint(req).Add("sha256", "bb").Add("title", "Notes").Sum()
			begin := func(user string, want idempotency.Verdict) idempotency.Claim {
				t.Helper()
				c, err := s.Begin(ctx, user, "key-00000001", req)
				if err != nil || c.Verdict != want {
					t.Fatalf("Begin(%s) = %+v, %v; want verdict %d", user, c, err, want)
				}
				return c
			}

			// Stored by the commit, in its transaction.
			begin("committed", idempotency.Run)
			if err := db.Gorm().Transaction(func(tx *gorm.DB) error {
				return idempotency.MarkCommitted(tx, "committed", "key-00000001", "d1", first)
			}); err != nil {
				t.Fatal(err)
			}
			c := begin("committed", idempotency.Committed)
			if c.Fingerprint != first || !s.SameRequest(c, first) || s.SameRequest(c, other) {
				t.Fatalf("committed claim %+v: same request %v, other request %v", c, s.SameRequest(c, first), s.SameRequest(c, other))
			}

			// Stored with the recorded answer of a write that was refused.
			begin("refused", idempotency.Run)
			if err := s.Finish(ctx, "refused", "key-00000001", first, idempotency.Response{Status: 400}); err != nil {
				t.Fatal(err)
			}
			if c := begin("refused", idempotency.Replay); c.Fingerprint != first || s.SameRequest(c, other) {
				t.Fatalf("refused claim %+v accepts another request", c)
			}

			// Kept by the commit when the answer is recorded without one.
			if err := s.Finish(ctx, "committed", "key-00000001", "", idempotency.Response{Status: 201}); err != nil {
				t.Fatal(err)
			}
			if c := begin("committed", idempotency.Replay); c.Fingerprint != first {
				t.Fatalf("recording the answer lost the fingerprint: %+v", c)
			}

			// Made before fingerprints were kept: method and path decide.
			begin("legacy", idempotency.Run)
			if err := idempotency.MarkCommitted(db.Gorm(), "legacy", "key-00000001", "d2", ""); err != nil {
				t.Fatal(err)
			}
			if c := begin("legacy", idempotency.Committed); c.Fingerprint != "" || !s.SameRequest(c, first) || !s.SameRequest(c, other) {
				t.Fatalf("legacy claim %+v refuses a retry", c)
			}
			if !s.SameRequest(idempotency.Claim{Verdict: idempotency.Replay, Fingerprint: "v0:00"}, other) {
				t.Fatal("a fingerprint of another scheme refuses a retry")
			}

			want := `
# HELP docplat_idempotency_fingerprint_checks_total Retries compared with the request their key's outcome answers, by result (same: replayed; differs: refused 422; unrecorded: the record predates fingerprints, method and path compared only).
# TYPE docplat_idempotency_fingerprint_checks_total counter
docplat_idempotency_fingerprint_checks_total{result="differs"} 2
docplat_idempotency_fingerprint_checks_total{result="same"} 1
docplat_idempotency_fingerprint_checks_total{result="unrecorded"} 3
`
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "docplat_idempotency_fingerprint_checks_total"); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestFingerprintSeparatesWhatDeterminesTheWrite: every request line, name
// and value counts, and no two values can pass for each other by moving
// bytes across the boundary between them.
func TestFingerprintSeparatesWhatDeterminesTheWrite(t *testing.T) {
	fp := func(request string, kv ...string) string {
		f := idempotency.NewFingerprint(request)
		for i := 0; i < len(kv); i += 2 {
			f.Add(kv[i], kv[i+1])
		}
		return f.Sum()
	}
	base := fp("POST /api/v1/documents", "sha256", "aa", "title", "Notes", "tags", "a,b")
	if again := fp("POST /api/v1/documents", "sha256", "aa", "title", "Notes", "tags", "a,b"); again != base {
		t.Fatalf("the same request fingerprints %s then %s", base, again)
	}
	for name, other := range map[string]string{
		"another path":                fp("POST /api/v1/documents/x", "sha256", "aa", "title", "Notes", "tags", "a,b"),
		"another content":             fp("POST /api/v1/documents", "sha256", "ab", "title", "Notes", "tags", "a,b"),
		"another title":               fp("POST /api/v1/documents", "sha256", "aa", "title", "Notes 2", "tags", "a,b"),
		"another field's name":        fp("POST /api/v1/documents", "sha256", "aa", "description", "Notes", "tags", "a,b"),
		"bytes moved across":          fp("POST /api/v1/documents", "sha256", "aa", "title", "Notest", "ags", "a,b"),
		"a value moved into the name": fp("POST /api/v1/documents", "sha256", "aa", "titleNotes", "", "tags", "a,b"),
		"a field missing":             fp("POST /api/v1/documents", "sha256", "aa", "title", "Notes"),
	} {
		if other == base {
			t.Errorf("%s fingerprints as the request", name)
		}
	}
	if !strings.HasPrefix(base, "v1:") || len(base) != 3+64 {
		t.Fatalf("fingerprint %q is not v1:<sha256 hex>", base)
	}
}

func TestCheckKey(t *testing.T) {
	for _, k := range []string{"key-0001", "550e8400-e29b-41d4-a716-446655440000", "01HZX3J9Q8K7M6N5P4R3S2T1V0", "YWJjZGVm+/=="} {
		if err := idempotency.CheckKey(k); err != nil {
			t.Errorf("CheckKey(%q) = %v", k, err)
		}
	}
	for _, k := range []string{"", "short", "with space 123", "tab\tkey-0001", "ключ-00000001", string(make([]byte, 129))} {
		if idempotency.CheckKey(k) == nil {
			t.Errorf("CheckKey(%q) accepted", k)
		}
	}
}
