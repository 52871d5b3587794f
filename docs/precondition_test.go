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
		{"older revision does not match", `"r2"`, ErrPrecondition},
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
