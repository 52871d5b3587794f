// Package blobtest is the blob store's test suite, run against every
// backend (the directory in package blob's tests, MinIO in package
// s3blob's): the same guarantees on each, checked the same way.
package blobtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"docplat/blob"
)

// Factory opens an empty store for one test, and again() opens another
// Store on the same backend (another process or node sharing it).
type Factory func(t *testing.T) (s *blob.Store, again func() *blob.Store)

// Run runs the suite with stores from open.
func Run(t *testing.T, open Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"RoundTrip", roundTrip},
		{"RangeReads", rangeReads},
		{"Dedup", dedup},
		{"Limits", limits},
		{"ReaderFailsMidway", readerFails},
		{"Discard", discard},
		{"PublishStagedFromAnotherStore", publishElsewhere},
		{"Derived", derived},
		{"Walk", walk},
		{"CleanTemp", cleanTemp},
		{"RepublishAfterRemove", republishAfterRemove},
		{"ConcurrentCommitSameContent", concurrentCommit},
		{"NotFoundAndInvalid", notFoundAndInvalid},
		{"LocalFile", localFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// Content is n deterministic bytes varied by seed (not compressible to a
// repeat, so that a part boundary mix-up shows).
func Content(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Put stages and commits b.
func Put(t testing.TB, s *blob.Store, b []byte) string {
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

func read(t testing.TB, open func() (blob.Object, error)) []byte {
	t.Helper()
	o, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != o.Size() {
		t.Fatalf("read %d bytes, Size says %d", len(b), o.Size())
	}
	return b
}

func walkAll(t testing.TB, s *blob.Store) []string {
	t.Helper()
	var shas []string
	if err := s.Walk(func(sha string, _ int64, _ time.Time) error { shas = append(shas, sha); return nil }); err != nil {
		t.Fatal(err)
	}
	return shas
}

// noLeftovers fails when anything is staged (CleanTemp with a cutoff in
// the future removes and counts every staged object).
func noLeftovers(t testing.TB, s *blob.Store) {
	t.Helper()
	if n, err := s.CleanTemp(-time.Minute); err != nil || n != 0 {
		t.Fatalf("staged leftovers: %d (%v)", n, err)
	}
}

func roundTrip(t *testing.T, open Factory) {
	s, _ := open(t)
	// 1 byte, 10 KB, one past the single-PUT size, two multipart parts.
	for i, n := range []int{1, 10 << 10, 1<<20 + 1, 9 << 20} {
		content := Content(n, byte(i))
		st, err := s.Stage(bytes.NewReader(content), 100<<20)
		if err != nil {
			t.Fatal(err)
		}
		if st.SHA256 != hashOf(content) || st.Size != int64(n) || !bytes.Equal(st.Head, content[:min(n, 512)]) {
			t.Fatalf("%d bytes: staged %s %d, head %d bytes", n, st.SHA256, st.Size, len(st.Head))
		}
		if _, err := s.Open(st.SHA256); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("%d bytes: visible before Commit: %v", n, err)
		}
		if got := read(t, st.Open); !bytes.Equal(got, content) {
			t.Fatalf("%d bytes: staged content differs", n)
		}
		if err := st.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := read(t, func() (blob.Object, error) { return s.Open(st.SHA256) }); !bytes.Equal(got, content) {
			t.Fatalf("%d bytes: committed content differs", n)
		}
		size, mod, err := s.Stat(st.SHA256)
		if err != nil || size != int64(n) || time.Since(mod) > time.Minute {
			t.Fatalf("%d bytes: Stat = %d %v %v", n, size, mod, err)
		}
		if err := st.Discard(); err != nil {
			t.Fatalf("Discard after Commit: %v", err)
		}
	}
	noLeftovers(t, s)
}

func rangeReads(t *testing.T, open Factory) {
	s, _ := open(t)
	content := Content(3<<20, 7)
	sha := Put(t, s, content)
	o, err := s.Open(sha)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for _, off := range []int64{2 << 20, 5, 0, 3<<20 - 10} {
		if _, err := o.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 10)
		if _, err := io.ReadFull(o, got); err != nil {
			t.Fatalf("at %d: %v", off, err)
		}
		if !bytes.Equal(got, content[off:off+10]) {
			t.Fatalf("at %d: wrong bytes", off)
		}
	}
	if end, err := o.Seek(0, io.SeekEnd); err != nil || end != int64(len(content)) {
		t.Fatalf("Seek end = %d, %v", end, err)
	}
	// What the content routes do with it: http.ServeContent, Range.
	if _, err := o.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Range", "bytes=1048570-1048589")
	http.ServeContent(rec, req, "", o.ModTime(), o)
	if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), content[1048570:1048590]) {
		t.Fatalf("Range answer %d, %d bytes", rec.Code, rec.Body.Len())
	}
}

func dedup(t *testing.T, open Factory) {
	s, _ := open(t)
	content := Content(2<<20, 3)
	a := Put(t, s, content)
	b := Put(t, s, content)
	if a != b {
		t.Fatal("identical content, different hashes")
	}
	if got := walkAll(t, s); len(got) != 1 || got[0] != a {
		t.Fatalf("blobs = %v, want one", got)
	}
	if got := read(t, func() (blob.Object, error) { return s.Open(a) }); !bytes.Equal(got, content) {
		t.Fatal("content differs")
	}
	noLeftovers(t, s)
}

func limits(t *testing.T, open Factory) {
	s, _ := open(t)
	for _, tc := range []struct {
		n, limit int
		want     error
	}{{100, 100, nil}, {101, 100, blob.ErrTooLarge}, {2<<20 + 1, 2 << 20, blob.ErrTooLarge}, {0, 100, blob.ErrEmpty}} {
		st, err := s.Stage(bytes.NewReader(Content(tc.n, 1)), int64(tc.limit))
		if !errors.Is(err, tc.want) {
			t.Fatalf("%d bytes, limit %d: %v, want %v", tc.n, tc.limit, err, tc.want)
		}
		if err == nil {
			if err := st.Discard(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := walkAll(t, s); len(got) != 0 {
		t.Fatalf("blobs = %v", got)
	}
	noLeftovers(t, s)
}

// failingReader yields n bytes, then an error.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func readerFails(t *testing.T, open Factory) {
	s, _ := open(t)
	boom := errors.New("client went away")
	for _, n := range []int{1000, 3 << 20, 10 << 20} {
		_, err := s.Stage(&failingReader{r: bytes.NewReader(Content(n, 2)), err: boom}, 100<<20)
		if !errors.Is(err, boom) {
			t.Fatalf("after %d bytes: %v, want the reader's error", n, err)
		}
	}
	if got := walkAll(t, s); len(got) != 0 {
		t.Fatalf("blobs = %v", got)
	}
	noLeftovers(t, s)
}

func discard(t *testing.T, open Factory) {
	s, _ := open(t)
	st, err := s.Stage(strings.NewReader("dropped"), 100)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := st.Discard(); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Commit(); err == nil {
		t.Fatal("Commit after Discard succeeded")
	}
	noLeftovers(t, s)
}

// publishElsewhere: a staged upload is published by its name from another
// store on the same backend (a transaction's recovery on another node),
// twice (a retried recovery).
func publishElsewhere(t *testing.T, open Factory) {
	s, again := open(t)
	content := Content(1<<20+5, 9)
	st, err := s.Stage(bytes.NewReader(content), 10<<20)
	if err != nil {
		t.Fatal(err)
	}
	other := again()
	for i := range 2 {
		if err := other.PublishStaged(st.TempName(), st.SHA256); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	if got := read(t, func() (blob.Object, error) { return s.Open(st.SHA256) }); !bytes.Equal(got, content) {
		t.Fatal("content differs")
	}
	for _, bad := range []string{"../x", "stage-../../x", "stage-a/b", "other", ""} {
		if err := other.PublishStaged(bad, st.SHA256); err == nil {
			t.Fatalf("PublishStaged(%q) accepted", bad)
		}
	}
	if err := other.PublishStaged("stage-missing", strings.Repeat("a", 64)); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("missing staged object and blob: %v", err)
	}
	noLeftovers(t, s)
}

func derived(t *testing.T, open Factory) {
	s, _ := open(t)
	a, b := Put(t, s, []byte("a")), Put(t, s, []byte("b"))
	for _, f := range []struct{ sha, name, body string }{{a, "manifest.json", "{}"}, {a, "page-1-480.png", "png"}, {b, "page-1-480.png", "other"}} {
		if err := s.PutDerived(f.sha, f.name, strings.NewReader(f.body), 100); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutDerived(a, "manifest.json", strings.NewReader(`{"pages":1}`), 100); err != nil {
		t.Fatal(err)
	}
	readDerived := func(sha, name string) string {
		return string(read(t, func() (blob.Object, error) { return s.OpenDerived(sha, name) }))
	}
	if got := readDerived(a, "manifest.json"); got != `{"pages":1}` {
		t.Errorf("replaced derived file reads %q", got)
	}
	big := Content(3<<20, 4)
	if err := s.PutDerived(a, "big", bytes.NewReader(big), 3<<20-1); !errors.Is(err, blob.ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	if err := s.PutDerived(a, "small", strings.NewReader("12345"), 4); !errors.Is(err, blob.ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	for _, name := range []string{"big", "small"} {
		if _, err := s.OpenDerived(a, name); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("a refused derived file %s exists: %v", name, err)
		}
	}
	for _, name := range []string{"", "../x", "a/b", ".hidden", "UPPER", strings.Repeat("x", 101)} {
		if err := s.PutDerived(a, name, strings.NewReader("x"), 10); !errors.Is(err, blob.ErrInvalidName) {
			t.Errorf("name %q: %v", name, err)
		}
	}
	if err := s.PutDerived("nothex", "x", strings.NewReader("x"), 10); !errors.Is(err, blob.ErrInvalidHash) {
		t.Errorf("bad hash: %v", err)
	}
	var seen []string
	if err := s.WalkDerived(func(sha string, mod time.Time) error {
		if time.Since(mod) > time.Minute {
			t.Errorf("derived files of %s modified %v", sha, mod)
		}
		seen = append(seen, sha)
		return nil
	}); err != nil || len(seen) != 2 {
		t.Errorf("walk: %v %v", seen, err)
	}
	if err := s.RemoveDerived(a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenDerived(a, "page-1-480.png"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("after RemoveDerived: %v", err)
	}
	if got := readDerived(b, "page-1-480.png"); got != "other" {
		t.Errorf("another blob's derived file: %q", got)
	}
	if err := s.RemoveDerived(a); err != nil {
		t.Errorf("removing twice: %v", err)
	}
	if got := walkAll(t, s); len(got) != 2 {
		t.Errorf("derived files show as blobs: %v", got)
	}
	noLeftovers(t, s)
}

func walk(t *testing.T, open Factory) {
	s, _ := open(t)
	var want []string
	for i := range 5 {
		want = append(want, Put(t, s, Content(100+i, byte(i))))
	}
	if _, err := s.Stage(strings.NewReader("staged, not committed"), 100); err != nil {
		t.Fatal(err)
	}
	got := walkAll(t, s)
	if len(got) != len(want) {
		t.Fatalf("walk = %v, want %d blobs", got, len(want))
	}
	for i := 1; i < len(got); i++ {
		if got[i-1] >= got[i] {
			t.Fatalf("walk not in order: %v", got)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.Walk(func(string, int64, time.Time) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("Walk = %v after %d calls, want stop after 1", err, calls)
	}
}

func cleanTemp(t *testing.T, open Factory) {
	s, _ := open(t)
	var staged []*blob.Staged
	for i := range 3 {
		st, err := s.Stage(bytes.NewReader(Content(10+i, byte(i))), 100)
		if err != nil {
			t.Fatal(err)
		}
		staged = append(staged, st)
	}
	if n, err := s.CleanTemp(time.Hour); err != nil || n != 0 {
		t.Fatalf("CleanTemp(1h) = %d, %v: removed fresh uploads", n, err)
	}
	if err := staged[0].Commit(); err != nil {
		t.Fatalf("fresh upload lost: %v", err)
	}
	if n, err := s.CleanTemp(-time.Minute); err != nil || n != 2 {
		t.Fatalf("CleanTemp(past) = %d, %v; want the 2 staged", n, err)
	}
	if err := staged[1].Commit(); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("committing a cleaned upload: %v", err)
	}
	if got := walkAll(t, s); len(got) != 1 {
		t.Fatalf("blobs = %v", got)
	}
}

// republishAfterRemove: an upload of content whose blob a collector just
// removed publishes it again (the collector and the publish are ordered by
// the blobs row lock above the store; here the store's part).
func republishAfterRemove(t *testing.T, open Factory) {
	s, _ := open(t)
	content := Content(5000, 5)
	sha := Put(t, s, content)
	if err := s.Remove(sha); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(sha); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
	if _, err := s.Open(sha); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("after Remove: %v", err)
	}
	Put(t, s, content)
	if got := read(t, func() (blob.Object, error) { return s.Open(sha) }); !bytes.Equal(got, content) {
		t.Fatal("content differs")
	}
}

func concurrentCommit(t *testing.T, open Factory) {
	s, _ := open(t)
	content := Content(300<<10, 6)
	want := hashOf(content)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
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
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := read(t, func() (blob.Object, error) { return s.Open(want) }); !bytes.Equal(got, content) {
		t.Fatal("final content is corrupt")
	}
	if got := walkAll(t, s); len(got) != 1 {
		t.Fatalf("blobs = %v", got)
	}
	noLeftovers(t, s)
}

func notFoundAndInvalid(t *testing.T, open Factory) {
	s, _ := open(t)
	absent := hashOf([]byte("absent"))
	if _, err := s.Open(absent); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Open: %v", err)
	}
	if _, _, err := s.Stat(absent); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat: %v", err)
	}
	if _, err := s.OpenDerived(absent, "x"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("OpenDerived: %v", err)
	}
	if err := s.Remove(absent); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	for _, bad := range []string{"", "abc", strings.ToUpper(absent), "../" + absent[3:]} {
		if _, err := s.Open(bad); !errors.Is(err, blob.ErrInvalidHash) {
			t.Fatalf("Open(%q): %v", bad, err)
		}
		if err := s.Remove(bad); !errors.Is(err, blob.ErrInvalidHash) {
			t.Fatalf("Remove(%q): %v", bad, err)
		}
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func localFile(t *testing.T, open Factory) {
	s, _ := open(t)
	content := Content(200<<10, 8)
	sha := Put(t, s, content)
	o, err := s.Open(sha)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, err := o.Seek(100, io.SeekStart); err != nil { // LocalFile reads from the start anyway
		t.Fatal(err)
	}
	p, done, err := blob.LocalFile(o, t.TempDir(), o.Size())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	done()
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("local file: %v", err)
	}
	if _, _, err := blob.LocalFile(o, t.TempDir(), 10); err == nil {
		if _, ok := blob.LocalPath(o); !ok {
			t.Fatal("a copy past its limit was made")
		}
	}
}
