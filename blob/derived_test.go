package blob

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDerivedFilesLiveBesideTheirBlob: on the directory backend a derived
// file is a file under derived/ab/cd/<sha>/, written through no leftover
// in blobs/tmp, and RemoveDerived takes the blob's directory. What derived
// files do on every backend (read back, replaced whole, bounded, names
// checked, walked, removed) is blobtest's suite (TestSuite).
func TestDerivedFilesLiveBesideTheirBlob(t *testing.T) {
	s := newStore(t)
	a := put(t, s, []byte("a"))
	if err := s.PutDerived(a, "page-1-480.png", strings.NewReader("png"), 100); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(s.Dir(), "derived", a[0:2], a[2:4], a)
	if b, err := os.ReadFile(filepath.Join(dir, "page-1-480.png")); err != nil || string(b) != "png" {
		t.Fatalf("derived file on disk: %q, %v", b, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(s.Dir(), "blobs", "tmp")); len(entries) != 0 {
		t.Errorf("staging leftovers: %d", len(entries))
	}
	if err := s.RemoveDerived(a); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the blob's derived directory is still there: %v", err)
	}
}
