package migrations

import (
	"io/fs"
	"slices"
	"testing"
)

// TestDialectsHaveTheSameVersions: every schema change exists for both
// databases, so the same binary runs on either.
func TestDialectsHaveTheSameVersions(t *testing.T) {
	names := func(d Dialect) []string {
		entries, err := fs.ReadDir(files, string(d))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	for _, set := range []string{"", "stats/"} {
		my, lite := names(Dialect(set+string(MySQL))), names(Dialect(set+string(SQLite)))
		if len(my) == 0 || !slices.Equal(my, lite) {
			t.Fatalf("%s: mysql migrations %v, sqlite migrations %v", set, my, lite)
		}
	}
}
