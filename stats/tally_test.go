package stats

import (
	"context"
	"testing"
	"time"

	"docplat/events"
	"docplat/internal/testdb"
)

// TestWindowedCountsExactlyOnceAfterCrashAndStaleOwner: counts summed in
// memory and written per window stay exactly-once when the process dies
// before writing (its successor reads the same records again from the
// stored position) and when a member that lost its partition without
// noticing writes after the new owner did (its sums are dropped and it is
// told where to read again).
func TestWindowedCountsExactlyOnceAfterCrashAndStaleOwner(t *testing.T) {
	for _, b := range testdb.Backends {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(ctx, Config{MySQLDSN: testdb.DSNFor(t, b), DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			at := time.Now().UTC().Truncate(time.Second)
			recs := func(from, to int64) []events.Record {
				var out []events.Record
				for o := from; o < to; o++ {
					out = append(out, events.Record{Offset: o, Access: events.Access{DocumentID: "doc", Kind: "view", At: at, Count: 2}})
				}
				return out
			}
			mustAdd := func(tl *tally, from, to int64) {
				t.Helper()
				if err := tl.add(ctx, 0, recs(from, to)); err != nil {
					t.Fatal(err)
				}
			}
			check := func(wantViews, wantNext int64) {
				t.Helper()
				ds, err := s.DocumentStats(ctx, "doc")
				if err != nil {
					t.Fatal(err)
				}
				off, err := s.Offset(ctx, "c", 0)
				if err != nil {
					t.Fatal(err)
				}
				if ds.Views != wantViews || off != wantNext {
					t.Fatalf("views %d, position %d; want %d and %d", ds.Views, off, wantViews, wantNext)
				}
			}

			crashed := s.newTally("c")
			mustAdd(crashed, 0, 10) // dies before its flush
			successor := s.newTally("c")
			mustAdd(successor, 0, 15)
			mustAdd(successor, 10, 15) // a redelivered batch adds nothing
			if _, err := successor.flush(ctx, nil); err != nil {
				t.Fatal(err)
			}
			check(30, 15)

			stale, owner := s.newTally("c"), s.newTally("c")
			mustAdd(stale, 15, 20)
			mustAdd(owner, 15, 25)
			if _, err := owner.flush(ctx, nil); err != nil {
				t.Fatal(err)
			}
			res, err := stale.flush(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.reread[0] != 25 {
				t.Errorf("the stale member is told to read again from %v, want partition 0 at 25", res.reread)
			}
			check(50, 25)
			// The stale member, read again from 25, counts on normally.
			mustAdd(stale, 25, 30)
			if _, err := stale.flush(ctx, nil); err != nil {
				t.Fatal(err)
			}
			check(60, 30)
		})
	}
}
