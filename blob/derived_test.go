package blob

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDerivedFilesLiveBesideTheirBlob: a derived file reads back as
// written, is replaced whole, is bounded, names are checked, and
// RemoveDerived takes every derived file of one blob and no other's.
func TestDerivedFilesLiveBesideTheirBlob(t *testing.T) {
	s := newStore(t)
	a, b := put(t, s, []byte("a")), put(t, s, []byte("b"))
	for _, f := range []struct{ sha, name, body string }{{a, "manifest.json", "{}"}, {a, "page-1-480.png", "png"}, {b, "page-1-480.png", "other"}} {
		if err := s.PutDerived(f.sha, f.name, strings.NewReader(f.body), 100); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutDerived(a, "manifest.json", strings.NewReader(`{"pages":1}`), 100); err != nil {
		t.Fatal(err)
	}
	if got := readDerived(t, s, a, "manifest.json"); got != `{"pages":1}` {
		t.Errorf("replaced derived file reads %q", got)
	}
	if err := s.PutDerived(a, "big", strings.NewReader("12345"), 4); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := s.OpenDerived(a, "big"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused derived file exists: %v", err)
	}
	for _, name := range []string{"", "../x", "a/b", ".hidden", "UPPER", strings.Repeat("x", 101)} {
		if err := s.PutDerived(a, name, strings.NewReader("x"), 10); !errors.Is(err, ErrInvalidName) {
			t.Errorf("name %q: %v", name, err)
		}
	}
	if err := s.PutDerived("nothex", "x", strings.NewReader("x"), 10); !errors.Is(err, ErrInvalidHash) {
		t.Errorf("bad hash: %v", err)
	}
	var seen []string
	if err := s.WalkDerived(func(sha string, mod time.Time) error {
		if time.Since(mod) > time.Minute {
			t.Errorf("derived dir of %s modified %v", sha, mod)
		}
		seen = append(seen, sha)
		return nil
	}); err != nil || len(seen) != 2 {
		t.Errorf("walk: %v %v", seen, err)
	}
	if err := s.RemoveDerived(a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenDerived(a, "page-1-480.png"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after RemoveDerived: %v", err)
	}
	if got := readDerived(t, s, b, "page-1-480.png"); got != "other" {
		t.Errorf("another blob's derived file: %q", got)
	}
	if err := s.RemoveDerived(a); err != nil {
		t.Errorf("removing twice: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(s.Dir(), "blobs", "tmp")); len(entries) != 0 {
		t.Errorf("staging leftovers: %d", len(entries))
	}
}

func readDerived(t *testing.T, s *Store, sha, name string) string {
	t.Helper()
	f, err := s.OpenDerived(sha, name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
