package blob

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func newStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// put stages and commits b.
func put(t testing.TB, s *Store, b []byte) string {
	t.Helper()
	st, err := s.Stage(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	return st.SHA256
}

// files lists the regular files under dir, relative to it.
func files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readBlob reads the committed blob sha.
func readBlob(t testing.TB, s *Store, sha string) []byte {
	t.Helper()
	return readAll(t, func() (Object, error) { return s.Open(sha) })
}

func walkAll(t testing.TB, s *Store) []string {
	t.Helper()
	var shas []string
	err := s.Walk(func(sha string, size int64, _ time.Time) error {
		shas = append(shas, sha)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return shas
}

// readAll opens a file with open and reads all of it.
func readAll(t testing.TB, open func() (Object, error)) []byte {
	t.Helper()
	f, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	long := bytes.Repeat([]byte("0123456789abcdef"), 100) // 1600 bytes
	tests := []struct {
		name     string
		content  []byte
		headSize int
	}{
		{"one byte", []byte("x"), 1},
		{"short", []byte("hello, blob"), 11},
		{"exactly 512", long[:512], 512},
		{"long", long, 512},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			st, err := s.Stage(bytes.NewReader(tt.content), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			want := hashOf(tt.content)
			if st.SHA256 != want || st.Size != int64(len(tt.content)) {
				t.Fatalf("got %s/%d, want %s/%d", st.SHA256, st.Size, want, len(tt.content))
			}
			if !bytes.Equal(st.Head, tt.content[:tt.headSize]) {
				t.Fatalf("Head = %d bytes, want the first %d", len(st.Head), tt.headSize)
			}
			if got := readAll(t, st.Open); !bytes.Equal(got, tt.content) {
				t.Fatal("staged content differs")
			}
			if _, err := s.Open(want); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Open before Commit: %v, want ErrNotFound", err)
			}
			if err := st.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := st.Commit(); err != nil {
				t.Fatalf("second Commit: %v", err)
			}
			if got := readBlob(t, s, want); !bytes.Equal(got, tt.content) {
				t.Fatal("committed content differs")
			}
			if got := readAll(t, st.Open); !bytes.Equal(got, tt.content) {
				t.Fatal("Staged.Open after Commit differs")
			}
			size, mod, err := s.Stat(want)
			if err != nil || size != int64(len(tt.content)) || mod.IsZero() {
				t.Fatalf("Stat = %d, %v, %v", size, mod, err)
			}
			final := filepath.Join(s.Dir(), "blobs", want[0:2], want[2:4], want)
			fi, err := os.Stat(final)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o644 {
				t.Fatalf("mode %v, want 0644", fi.Mode().Perm())
			}
			if got := files(t, filepath.Join(s.Dir(), "blobs", "tmp")); len(got) != 0 {
				t.Fatalf("tmp not empty: %v", got)
			}
		})
	}
}

func TestCommitSameContentTwice(t *testing.T) {
	s := newStore(t)
	content := []byte("same bytes")
	a := put(t, s, content)
	b := put(t, s, content)
	if a != b {
		t.Fatalf("hashes differ: %s %s", a, b)
	}
	if got := files(t, filepath.Join(s.Dir(), "blobs")); len(got) != 1 {
		t.Fatalf("files = %v, want exactly one", got)
	}
	if got := readBlob(t, s, a); !bytes.Equal(got, content) {
		t.Fatal("content differs")
	}

	// A collector removed the blob and its fan-out directories while a
	// third upload of the same content was staged: Commit re-creates both.
	st, err := s.Stage(bytes.NewReader(content), 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(s.Dir(), "blobs", a[0:2])); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(a); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open after collection: %v", err)
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, s, a); !bytes.Equal(got, content) {
		t.Fatal("re-created content differs")
	}
}

func TestStageLimit(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		limit   int64
		wantErr error
	}{
		{"exactly limit", 100, 100, nil},
		{"under limit", 99, 100, nil},
		{"limit plus one", 101, 100, ErrTooLarge},
		{"far over limit", 1 << 20, 100, ErrTooLarge},
		{"empty", 0, 100, ErrEmpty},
		{"zero limit", 1, 0, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			st, err := s.Stage(bytes.NewReader(bytes.Repeat([]byte{'a'}, tt.size)), tt.limit)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil {
				if st.Size != int64(tt.size) {
					t.Fatalf("Size = %d", st.Size)
				}
				if err := st.Commit(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if st != nil {
				t.Fatal("Staged returned with an error")
			}
			if got := files(t, filepath.Join(s.Dir(), "blobs")); len(got) != 0 {
				t.Fatalf("files left behind: %v", got)
			}
		})
	}
}

// failingReader yields n bytes, then fails.
type failingReader struct {
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n, 1000)
	for i := range p[:k] {
		p[i] = 'z'
	}
	r.n -= k
	return k, nil
}

func TestStageReaderFailsMidway(t *testing.T) {
	s := newStore(t)
	boom := errors.New("connection reset")
	const sent = 5000
	st, err := s.Stage(&failingReader{n: sent, err: boom}, 1<<20)
	if !errors.Is(err, boom) || st != nil {
		t.Fatalf("Stage = %v, %v; want the reader's error", st, err)
	}
	if got := files(t, filepath.Join(s.Dir(), "blobs")); len(got) != 0 {
		t.Fatalf("files left behind: %v", got)
	}
	if got := walkAll(t, s); len(got) != 0 {
		t.Fatalf("Walk found %v", got)
	}
	partial := hashOf(bytes.Repeat([]byte{'z'}, sent))
	if _, err := s.Open(partial); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open(partial) = %v, want ErrNotFound", err)
	}
}

func TestInvalidHash(t *testing.T) {
	s := newStore(t)
	valid := hashOf([]byte("x"))
	for _, sha := range []string{
		"",
		"../../etc/passwd",
		"ABC",
		valid[:63],
		valid + "0",
		strings.ToUpper(valid),
		"tmp",
		valid[:62] + "/x",
		valid[:63] + "g",
	} {
		t.Run(sha, func(t *testing.T) {
			if _, err := s.Open(sha); !errors.Is(err, ErrInvalidHash) {
				t.Errorf("Open: %v", err)
			}
			if _, _, err := s.Stat(sha); !errors.Is(err, ErrInvalidHash) {
				t.Errorf("Stat: %v", err)
			}
			if err := s.Remove(sha); !errors.Is(err, ErrInvalidHash) {
				t.Errorf("Remove: %v", err)
			}
		})
	}
}

func TestNotFoundAndRemove(t *testing.T) {
	s := newStore(t)
	sha := put(t, s, []byte("to be removed"))
	if err := s.Remove(sha); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(sha); err != nil {
		t.Fatalf("removing an absent blob: %v", err)
	}
	if _, err := s.Open(sha); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open: %v", err)
	}
	if _, _, err := s.Stat(sha); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Stat: %v", err)
	}
}

func TestDiscard(t *testing.T) {
	s := newStore(t)
	tmp := filepath.Join(s.Dir(), "blobs", "tmp")

	st, err := s.Stage(strings.NewReader("discard me"), 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := files(t, tmp); len(got) != 1 {
		t.Fatalf("tmp = %v, want one staged file", got)
	}
	for range 2 {
		if err := st.Discard(); err != nil {
			t.Fatal(err)
		}
	}
	if got := files(t, tmp); len(got) != 0 {
		t.Fatalf("tmp = %v after Discard", got)
	}
	if err := st.Commit(); err == nil {
		t.Fatal("Commit after Discard succeeded")
	}

	st, err = s.Stage(strings.NewReader("keep me"), 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := st.Discard(); err != nil {
			t.Fatal(err)
		}
	}
	if got := readBlob(t, s, st.SHA256); string(got) != "keep me" {
		t.Fatalf("blob after Discard = %q", got)
	}
}

func TestWalk(t *testing.T) {
	s := newStore(t)
	var want []string
	for _, c := range []string{"one", "two", "three", "four"} {
		want = append(want, put(t, s, []byte(c)))
	}
	sort.Strings(want)

	// A staged but uncommitted upload, and strays of every kind.
	if _, err := s.Stage(strings.NewReader("pending"), 100); err != nil {
		t.Fatal(err)
	}
	blobs := filepath.Join(s.Dir(), "blobs")
	other := hashOf([]byte("misplaced"))
	stray := map[string]string{
		filepath.Join(want[0][0:2], want[0][2:4], "junk"):   "junk",
		filepath.Join(want[0][0:2], want[0][2:4], other):    "wrong fan-out dir",
		filepath.Join("zz", "zz", hashOf([]byte("zz"))):     "non-hex dir",
		filepath.Join(want[0][0:2], strings.ToUpper(other)): "wrong level",
		filepath.Join("tmp", hashOf([]byte("in tmp"))):      "tmp",
		"README": "top level",
		filepath.Join(want[1][0:2], want[1][2:4], "x.partial"): "partial",
	}
	for rel, body := range stray {
		p := filepath.Join(blobs, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	got := walkAll(t, s)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Walk = %v\nwant  %v", got, want)
	}

	sizes := map[string]int64{}
	err := s.Walk(func(sha string, size int64, mod time.Time) error {
		sizes[sha] = size
		if mod.IsZero() {
			t.Errorf("%s: zero modTime", sha)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sizes[hashOf([]byte("three"))] != 5 {
		t.Fatalf("sizes = %v", sizes)
	}

	stop := errors.New("stop")
	calls := 0
	err = s.Walk(func(string, int64, time.Time) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Walk = %v after %d calls, want stop after 1", err, calls)
	}
}

func TestCleanTemp(t *testing.T) {
	s := newStore(t)
	tmp := filepath.Join(s.Dir(), "blobs", "tmp")
	var old, fresh []*Staged
	for i := range 3 {
		st, err := s.Stage(strings.NewReader(strings.Repeat("o", i+1)), 100)
		if err != nil {
			t.Fatal(err)
		}
		past := time.Now().Add(-2 * time.Hour)
		if err := os.Chtimes(stagedPath(s, st), past, past); err != nil {
			t.Fatal(err)
		}
		old = append(old, st)
	}
	for i := range 2 {
		st, err := s.Stage(strings.NewReader(strings.Repeat("f", i+1)), 100)
		if err != nil {
			t.Fatal(err)
		}
		fresh = append(fresh, st)
	}

	n, err := s.CleanTemp(time.Hour)
	if err != nil || n != len(old) {
		t.Fatalf("CleanTemp = %d, %v; want %d", n, err, len(old))
	}
	for _, st := range old {
		if _, err := os.Stat(stagedPath(s, st)); !os.IsNotExist(err) {
			t.Fatalf("old temp %s survived", stagedPath(s, st))
		}
	}
	if got := files(t, tmp); len(got) != len(fresh) {
		t.Fatalf("tmp = %v, want the %d fresh files", got, len(fresh))
	}
	for _, st := range fresh {
		if err := st.Commit(); err != nil {
			t.Fatalf("fresh upload lost: %v", err)
		}
	}
	if n, err := s.CleanTemp(time.Hour); err != nil || n != 0 {
		t.Fatalf("second CleanTemp = %d, %v", n, err)
	}
}

func TestConcurrentCommitSameContent(t *testing.T) {
	s := newStore(t)
	content := bytes.Repeat([]byte("concurrent "), 10000)
	want := hashOf(content)

	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			st, err := s.Stage(bytes.NewReader(content), int64(len(content)))
			if err == nil {
				err = st.Commit()
			}
			if err == nil && st.SHA256 != want {
				err = errors.New("wrong hash " + st.SHA256)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("committer %d: %v", i, err)
		}
	}
	if got := readBlob(t, s, want); !bytes.Equal(got, content) {
		t.Fatal("final content is corrupt")
	}
	if got := files(t, filepath.Join(s.Dir(), "blobs")); len(got) != 1 {
		t.Fatalf("files = %v, want one blob and an empty tmp", got)
	}
}

func BenchmarkStageCommit10KB(b *testing.B) {
	s := newStore(b)
	content := make([]byte, 10<<10)
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// Vary the content so every iteration publishes a new blob.
		content[0], content[1], content[2], content[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
		st, err := s.Stage(bytes.NewReader(content), int64(len(content)))
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPublishStagedByNameIsIdempotent(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Stage(strings.NewReader("published by name"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second time the staged file is gone: still fine
		if err := s.PublishStaged(st.TempName(), st.SHA256); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	f, err := s.Open(st.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, bad := range []string{"../x", "stage-../../x", "other", ""} {
		if err := s.PublishStaged(bad, st.SHA256); err == nil {
			t.Fatalf("PublishStaged(%q) accepted", bad)
		}
	}
	if err := s.PublishStaged("stage-missing", strings.Repeat("a", 64)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing staged file and blob: %v", err)
	}
}

// stagedPath is the directory backend's file of a staged content.
func stagedPath(s *Store, st *Staged) string {
	return filepath.Join(s.Dir(), "blobs", "tmp", st.TempName())
}
