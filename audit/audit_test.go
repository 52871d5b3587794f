package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"docplat/audit"
	"docplat/events"
	"docplat/internal/testdb"
	"docplat/sqlstore"
)

func openDB(t *testing.T, b testdb.Backend) *gorm.DB {
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
	return db.Gorm()
}

// TestRecordIsPartOfTheTransaction: an entry commits and rolls back with
// the transaction it was written in.
func TestRecordIsPartOfTheTransaction(t *testing.T) {
	for _, b := range testdb.Backends {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, b)
			log := audit.New(db, audit.Options{})
			boom := errors.New("boom")
			err := db.Transaction(func(tx *gorm.DB) error {
				if err := audit.Record(tx, audit.Entry{Action: audit.UserCreate, Target: "rolled-back"}); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
			err = db.Transaction(func(tx *gorm.DB) error {
				return audit.Record(tx, audit.Entry{Action: audit.UserCreate, Target: "kept", ActorID: "a1", IP: "10.0.0.1",
					Detail: map[string]any{"role": audit.Change{Old: "member", New: "admin"}}})
			})
			if err != nil {
				t.Fatal(err)
			}
			got, total, err := log.Query(ctx, audit.Filter{}, audit.Page{Page: 1, Size: 10})
			if err != nil || total != 1 || len(got) != 1 || got[0].Target != "kept" || got[0].IP != "10.0.0.1" {
				t.Fatalf("Query = %+v, %d, %v; want only the committed entry", got, total, err)
			}
			if role, _ := got[0].Detail["role"].(map[string]any); role["old"] != "member" || role["new"] != "admin" {
				t.Fatalf("detail = %v", got[0].Detail)
			}
			if err := audit.Record(db, audit.Entry{Target: "no action"}); err == nil {
				t.Fatal("an entry without an action was written")
			}
		})
	}
}

// TestQueryFiltersAndPages: every filter narrows, pages are newest first
// and do not overlap, the CSV export has them all.
func TestQueryFiltersAndPages(t *testing.T) {
	for _, b := range testdb.Backends {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, b)
			log := audit.New(db, audit.Options{})
			base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
			var all []audit.Entry
			for i := range 25 {
				e := audit.Entry{At: base.Add(time.Duration(i) * time.Minute), ActorID: fmt.Sprintf("u%d", i%3), Action: audit.DocumentCreate,
					Target: fmt.Sprintf("d%d", i), DepartmentID: fmt.Sprintf("dep%d", i%2)}
				if i%5 == 0 {
					e.Action = audit.DocumentDelete
				}
				all = append(all, e)
			}
			all[24].Target = "=cmd|' /C calc'!A0" // a formula in a spreadsheet
			if err := audit.RecordAll(db, all); err != nil {
				t.Fatal(err)
			}
			count := func(f audit.Filter) int64 {
				t.Helper()
				_, n, err := log.Query(ctx, f, audit.Page{Page: 1, Size: 1})
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			for name, c := range map[string]struct {
				f    audit.Filter
				want int64
			}{
				"all":        {audit.Filter{}, 25},
				"actor":      {audit.Filter{ActorID: "u0"}, 9},
				"action":     {audit.Filter{Action: audit.DocumentDelete}, 5},
				"target":     {audit.Filter{Target: "d3"}, 1},
				"department": {audit.Filter{DepartmentID: "dep1"}, 12},
				"since":      {audit.Filter{Since: base.Add(20 * time.Minute)}, 5},
				"until":      {audit.Filter{Until: base.Add(20 * time.Minute)}, 20},
				"range":      {audit.Filter{Since: base.Add(5 * time.Minute), Until: base.Add(10 * time.Minute)}, 5},
				"combined":   {audit.Filter{ActorID: "u0", Action: audit.DocumentDelete}, 2},
			} {
				if n := count(c.f); n != c.want {
					t.Errorf("%s: %d entries, want %d", name, n, c.want)
				}
			}
			seen := map[string]bool{}
			var last time.Time
			for p := 1; p <= 3; p++ {
				page, total, err := log.Query(ctx, audit.Filter{}, audit.Page{Page: p, Size: 10})
				if err != nil || total != 25 {
					t.Fatal(total, err)
				}
				for _, e := range page {
					if seen[e.Target] || (!last.IsZero() && e.At.After(last)) {
						t.Fatalf("page %d: %s repeated or out of order", p, e.Target)
					}
					seen[e.Target], last = true, e.At
				}
			}
			if len(seen) != 25 {
				t.Fatalf("pages held %d entries, want 25", len(seen))
			}

			var buf bytes.Buffer
			n, err := log.ExportCSV(ctx, &buf, audit.Filter{}, 0)
			if err != nil || n != 25 {
				t.Fatal(n, err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil || len(recs) != 26 || recs[0][0] != "at" {
				t.Fatalf("csv: %d records, %v", len(recs), err)
			}
			if recs[1][3] != "'=cmd|' /C calc'!A0" {
				t.Fatalf("newest target in CSV = %q, want the formula neutralized", recs[1][3])
			}
			if n, _ := log.ExportCSV(ctx, &bytes.Buffer{}, audit.Filter{ActorID: "u1"}, 3); n != 3 {
				t.Fatalf("limited export wrote %d rows, want 3", n)
			}
		})
	}
}

// TestPurgeKeepsTheRetention: entries past the retention go, in batches
// smaller than their number; newer ones stay.
func TestPurgeKeepsTheRetention(t *testing.T) {
	for _, b := range testdb.Backends {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, b)
			log := audit.New(db, audit.Options{Retention: 24 * time.Hour, PurgeBatch: 3})
			now := time.Now()
			var es []audit.Entry
			for i := range 10 {
				es = append(es, audit.Entry{At: now.Add(-48 * time.Hour).Add(time.Duration(i) * time.Second), Action: audit.Logout, Target: "old"})
			}
			es = append(es, audit.Entry{At: now.Add(-time.Hour), Action: audit.Logout, Target: "new"})
			if err := audit.RecordAll(db, es); err != nil {
				t.Fatal(err)
			}
			n, err := log.Purge(ctx)
			if err != nil || n != 10 {
				t.Fatalf("Purge = %d, %v; want 10", n, err)
			}
			left, total, err := log.Query(ctx, audit.Filter{}, audit.Page{Page: 1, Size: 10})
			if err != nil || total != 1 || left[0].Target != "new" {
				t.Fatalf("left %+v, %v", left, err)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (audit.Options{Retention: time.Minute}).Validate(); err == nil {
		t.Fatal("a retention of a minute was accepted")
	}
	if err := (audit.Options{Retention: audit.DefaultRetention}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestExportCSVCrossesBatches: an export longer than one read batch has
// every entry once, newest first, also where many share a time (the
// keyset continues on the id).
func TestExportCSVCrossesBatches(t *testing.T) {
	for _, b := range testdb.Backends {
		t.Run(string(b), func(t *testing.T) {
			db := openDB(t, b)
			log := audit.New(db, audit.Options{})
			base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			var es []audit.Entry
			for i := range 2100 {
				// Runs of 300 entries at the same instant straddle the batches.
				es = append(es, audit.Entry{At: base.Add(time.Duration(i/300) * time.Second), Action: audit.DocumentDownload, Target: fmt.Sprintf("d%04d", i)})
			}
			if err := audit.RecordAll(db, es); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			n, err := log.ExportCSV(context.Background(), &buf, audit.Filter{}, 0)
			if err != nil || n != 2100 {
				t.Fatalf("ExportCSV = %d, %v; want 2100", n, err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for i, r := range recs[1:] {
				if seen[r[3]] {
					t.Fatalf("%s exported twice", r[3])
				}
				seen[r[3]] = true
				if i > 0 && r[0] > recs[i][0] {
					t.Fatalf("row %d (%s) is newer than the row before it (%s)", i+1, r[0], recs[i][0])
				}
			}
			if len(seen) != 2100 {
				t.Fatalf("%d distinct entries exported, want 2100", len(seen))
			}
		})
	}
}

// TestDownloadsAreRecordedOnce: audited reads become document.download
// entries (public and anonymous reads none); a batch delivered again, or
// overlapping the last one, adds nothing twice; the positions say where
// each partition resumes.
func TestDownloadsAreRecordedOnce(t *testing.T) {
	for _, b := range testdb.Backends {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, b)
			log := audit.New(db, audit.Options{})
			d := audit.NewDownloads(db, "docplat.access")
			at := time.Now().UTC()
			reader := func(actor, vis string) *events.Reader {
				return &events.Reader{ActorID: actor, IP: "10.1.1.1", Visibility: vis, DepartmentID: "dep"}
			}
			rec := func(off int64, a events.Access) events.Record {
				a.At, a.Kind = at, "download"
				return events.Record{Partition: 2, Offset: off, Access: a}
			}
			batch := []events.Record{
				rec(10, events.Access{DocumentID: "priv", Bytes: 5, Reader: reader("u1", "private")}),
				rec(11, events.Access{DocumentID: "pub", Bytes: 5, Reader: reader("u1", "public")}),
				rec(12, events.Access{DocumentID: "anon", Bytes: 5}),
				rec(13, events.Access{DocumentID: "dept", Bytes: 15, Count: 3, Reader: reader("u2", "department")}),
			}
			for range 2 { // redelivered
				if err := d.Record(ctx, 2, batch); err != nil {
					t.Fatal(err)
				}
			}
			share := reader("", "public")
			share.ShareID = "share-1"
			if err := d.Record(ctx, 2, append(batch[3:], rec(14, events.Access{DocumentID: "priv", Bytes: 5, Reader: reader("u3", "private")}),
				rec(15, events.Access{DocumentID: "pub", Bytes: 5, Reader: share}))); err != nil {
				t.Fatal(err)
			}
			got, total, err := log.Query(ctx, audit.Filter{Action: audit.DocumentDownload}, audit.Page{Page: 1, Size: 10})
			if err != nil || total != 3 {
				t.Fatalf("%d download entries (%v), want 3: %+v", total, err, got)
			}
			byActor := map[string]audit.Entry{}
			for _, e := range got {
				byActor[e.ActorID] = e
			}
			if e := byActor["u2"]; e.Target != "dept" || e.IP != "10.1.1.1" || e.DepartmentID != "dep" || e.Detail["count"] != float64(3) {
				t.Errorf("u2's entry %+v", e)
			}
			if byActor["u1"].Target != "priv" || byActor["u3"].Target != "priv" {
				t.Errorf("entries %+v", got)
			}
			shared, n, err := log.Query(ctx, audit.Filter{Action: audit.ShareDownload}, audit.Page{Page: 1, Size: 10})
			if err != nil || n != 1 || shared[0].Target != "share-1" || shared[0].Detail["document_id"] != "pub" {
				t.Fatalf("share downloads %+v, %v; want one of share-1", shared, err)
			}
			pos, err := d.Positions(ctx, []int32{1, 2})
			if err != nil || len(pos) != 1 || pos[2] != 16 {
				t.Fatalf("Positions = %v, %v; want partition 2 at 16 only", pos, err)
			}
		})
	}
}
