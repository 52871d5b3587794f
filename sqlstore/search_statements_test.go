package sqlstore_test

import (
	"fmt"
	"slices"
	"testing"

	"docplat/accounts"
	"docplat/docs"
	"docplat/sqlstore"
)

// Every page size and page of a ranked search is answered right through a
// few prepared statements: the page read's id list is padded, and the
// padding neither repeats nor drops a result.
func TestRankedPagesThroughFewPreparedStatements(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.user(t, "owner", accounts.RoleMember, "")
		var want []string
		for i := range 23 {
			d := e.create(t, docSpec{Title: fmt.Sprintf("numbat %02d", i), Body: "numbat field notes", Visibility: docs.Public, Owner: owner.ID})
			want = append(want, d.ID)
		}
		slices.Sort(want)
		for size := 1; size <= 25; size++ {
			var got []string
			for page := 1; ; page++ {
				items, total := e.list(t, docs.Actor{}, docs.Query{Terms: []string{"numbat"}, Sort: docs.SortRelevance, Page: page, Size: size})
				if total != int64(len(want)) {
					t.Fatalf("size %d page %d: total %d, want %d", size, page, total, len(want))
				}
				if len(items) == 0 {
					break
				}
				if len(items) > size {
					t.Fatalf("size %d page %d: %d items", size, page, len(items))
				}
				got = append(got, ids(items)...)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("size %d: pages hold %d documents (%v), want each of the %d once", size, len(got), got, len(want))
			}
		}
		if e.mariadb() {
			noFallback(t, e)
			// The Groonga call and one page read per bucket (1, 5, 10, 20, 50).
			if n := sqlstore.PreparedSearchStatements(e.db); n == 0 || n > 6 {
				t.Errorf("%d prepared search statements, want 1 to 6", n)
			}
		}
	})
}
