package docs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestParseIfMatch(t *testing.T) {
	sha := sha256Hex("content")
	cases := []struct {
		name    string
		header  string
		want    Precondition
		wantErr bool
	}{
		{"empty header sets no precondition", "", Precondition{}, false},
		{"blank header sets no precondition", "   ", Precondition{}, false},
		{"star sets no precondition", "*", Precondition{}, false},
		{"quoted revision", `"r3"`, Precondition{set: true, revision: 3}, false},
		{"unquoted revision", "r3", Precondition{set: true, revision: 3}, false},
		{"weak revision never matches", `W/"r3"`, Precondition{set: true}, false},
		{"quoted version", `"3"`, Precondition{set: true, version: 3}, false},
		{"unquoted version", "3", Precondition{set: true, version: 3}, false},
		{"weak version never matches", `W/"3"`, Precondition{set: true}, false},
		{"pending text's revision", `"r3-pending"`, Precondition{set: true, revision: 3}, false},
		{"surrounding spaces are trimmed", `  "r12"  `, Precondition{set: true, revision: 12}, false},
		{"quoted sha256", `"` + sha + `"`, Precondition{set: true, sha256: sha}, false},
		{"unquoted sha256", sha, Precondition{set: true, sha256: sha}, false},
		{"all-digit 64 characters is a sha256, not a version", strings.Repeat("1", 64), Precondition{set: true, sha256: strings.Repeat("1", 64)}, false},
		{"word", "abc", Precondition{}, true},
		{"revision zero", "r0", Precondition{}, true},
		{"bare r", "r", Precondition{}, true},
		{"negative version", "-1", Precondition{}, true},
		{"version zero", "0", Precondition{}, true},
		{"negative revision", `"r-2"`, Precondition{}, true},
		{"empty quotes", `""`, Precondition{}, true},
		{"upper-case sha256", `"` + strings.ToUpper(sha) + `"`, Precondition{}, true},
		{"sha256 one character short", sha[:63], Precondition{}, true},
		{"list of etags", `"r3", "r4"`, Precondition{}, true},
		{"pending without a revision", `"r-pending"`, Precondition{}, true},
		{"another suffix", `"r3-ready"`, Precondition{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseIfMatch(tc.header)
			if tc.wantErr {
				wantInvalid(t, fmt.Sprintf("ParseIfMatch(%q)", tc.header), err)
				return
			}
			if err != nil {
				t.Fatalf("ParseIfMatch(%q) error = %v", tc.header, err)
			}
			if got != tc.want {
				t.Errorf("ParseIfMatch(%q) = %+v, want %+v", tc.header, got, tc.want)
			}
		})
	}
}

func TestPreconditionCheck(t *testing.T) {
	sha := sha256Hex("current content")
	doc := Document{Revision: 3, Version: 2, SHA256: sha}
	cases := []struct {
		name   string
		header string
		want   error
	}{
		{"no header matches anything", "", nil},
		{"star matches anything", "*", nil},
		{"current revision matches", `"r3"`, nil},
		{"the tag taken while its text was pending matches", `"r3-pending"`, nil},
		{"older revision does not match", `"r2"`, ErrPrecondition},
		{"older pending revision does not match", `"r2-pending"`, ErrPrecondition},
		{"newer revision does not match", `"r4"`, ErrPrecondition},
		{"current version matches", `"2"`, nil},
		{"weak tag never matches (strong comparison)", `W/"2"`, ErrPrecondition},
		{"older version does not match", "1", ErrPrecondition},
		{"revision number given as version does not match", "3", ErrPrecondition},
		{"version number given as revision does not match", "r2", ErrPrecondition},
		{"current content etag matches", `"` + sha + `"`, nil},
		{"other content etag does not match", `"` + sha256Hex("older content") + `"`, ErrPrecondition},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseIfMatch(tc.header)
			if err != nil {
				t.Fatalf("ParseIfMatch(%q): %v", tc.header, err)
			}
			if err := p.check(doc); !errors.Is(err, tc.want) {
				t.Errorf("check = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestZeroPreconditionMatchesEmptyDocument(t *testing.T) {
	if err := (Precondition{}).check(Document{}); err != nil {
		t.Fatalf("zero Precondition.check(zero Document) = %v, want nil", err)
	}
}

// TestMetaETagFollowsTheTextButIfMatchOnlyTheRevision: the text settling
// changes the ETag (a revalidating reader sees the new state) but not the
// revision, so a writer holding the pending tag is not refused.
func TestMetaETagFollowsTheTextButIfMatchOnlyTheRevision(t *testing.T) {
	pending := Document{Revision: 7, TextState: TextPending}
	ready := Document{Revision: 7, TextState: TextReady}
	if MetaETag(pending) == MetaETag(ready) {
		t.Fatalf("the ETag %s does not change when the text settles", MetaETag(pending))
	}
	for _, d := range []Document{pending, ready, {Revision: 7, TextState: TextFailed}, {Revision: 7, TextState: TextNone}} {
		p, err := ParseIfMatch(MetaETag(d))
		if err != nil {
			t.Fatalf("ParseIfMatch(%s): %v", MetaETag(d), err)
		}
		for _, cur := range []Document{pending, ready} {
			if err := p.check(cur); err != nil {
				t.Errorf("If-Match %s against revision 7 with text %s: %v", MetaETag(d), cur.TextState, err)
			}
		}
		if err := p.check(Document{Revision: 8, TextState: TextReady}); !errors.Is(err, ErrPrecondition) {
			t.Errorf("If-Match %s against revision 8: %v, want ErrPrecondition", MetaETag(d), err)
		}
	}
}

// The revision a client was told of is read from what MetaETag gave it,
// pending or settled, and nothing else claims one.
func TestETagRevisionReadsMetaETags(t *testing.T) {
	for _, d := range []Document{{Revision: 7}, {Revision: 7, TextState: TextPending}} {
		if got := ETagRevision(MetaETag(d)); got != 7 {
			t.Errorf("ETagRevision(%s) = %d, want 7", MetaETag(d), got)
		}
	}
	for _, h := range []string{"", "*", `"r"`, `r7`, `W/"r7"`, `"r7", "r8"`, `"rx"`, `"` + strings.Repeat("a", 64) + `"`, `"7"`} {
		if got := ETagRevision(h); got != 0 {
			t.Errorf("ETagRevision(%q) = %d, want 0", h, got)
		}
	}
}
