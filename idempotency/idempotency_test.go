package idempotency_test

import (
	"context"
	"testing"
	"time"

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
			if err := s.Finish(ctx, "u1", "key-00000001", resp); err != nil {
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
			if err := idempotency.MarkCommitted(db.Gorm(), "u2", "key-00000001", "d2"); err != nil {
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
			if err := short.Finish(ctx, "u4", "key-00000004", resp); err != nil {
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
