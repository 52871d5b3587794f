package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// Errors returned by the store; test with errors.Is.
var (
	ErrNotFound    = errors.New("blob: not found")
	ErrTooLarge    = errors.New("blob: content exceeds the size limit")
	ErrEmpty       = errors.New("blob: content is empty")
	ErrInvalidHash = errors.New("blob: invalid sha256")
)

// Store is docplat's content-addressed blob store over a Backend. It holds
// no state besides the backend, so a Store is safe for concurrent use, and
// several processes may open stores on the same directory or bucket.
type Store struct {
	b   Backend
	dir string // the directory backend's root; "" for another backend
}

// Open returns a store on the directory backend rooted at dir (the default,
// and embedded mode's).
func Open(dir string) (*Store, error) {
	d, err := NewDirBackend(dir)
	if err != nil {
		return nil, err
	}
	return &Store{b: d, dir: dir}, nil
}

// New returns a store over backend b (an S3 bucket: package blob/s3blob).
func New(b Backend) *Store {
	s := &Store{b: b}
	if d, ok := b.(*DirBackend); ok {
		s.dir = d.Dir()
	}
	return s
}

// Dir returns the directory backend's root, "" for another backend.
func (s *Store) Dir() string { return s.dir }

// Kind names the backend: "dir" or "s3".
func (s *Store) Kind() string { return s.b.Kind() }

// Ping checks the backend answers; for /readyz.
func (s *Store) Ping(ctx context.Context) error { return s.b.Ping(ctx) }

// Open returns the committed blob sha for reading.
func (s *Store) Open(sha string) (Object, error) {
	k, err := blobKey(sha)
	if err != nil {
		return nil, err
	}
	return s.b.Open(k)
}

// Stat returns the size and modification time of the committed blob sha.
func (s *Store) Stat(sha string) (size int64, modTime time.Time, err error) {
	k, err := blobKey(sha)
	if err != nil {
		return 0, time.Time{}, err
	}
	return s.b.Stat(k)
}

// Remove deletes the committed blob sha; removing an absent blob is not an
// error.
func (s *Store) Remove(sha string) error {
	k, err := blobKey(sha)
	if err != nil {
		return err
	}
	if err := s.b.Remove(k); err != nil {
		return fmt.Errorf("blob: remove %s: %w", sha, err)
	}
	return nil
}

// blobKey is the key of blob sha: blobs/<sha[0:2]>/<sha[2:4]>/<sha>.
func blobKey(sha string) (string, error) {
	if !validHash(sha) {
		return "", fmt.Errorf("%w: %q", ErrInvalidHash, sha)
	}
	return "blobs/" + sha[0:2] + "/" + sha[2:4] + "/" + sha, nil
}

// validHash reports whether sha is exactly 64 lowercase hex characters.
func validHash(sha string) bool {
	if len(sha) != 64 {
		return false
	}
	for i := 0; i < len(sha); i++ {
		c := sha[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// notFound maps a missing file to ErrNotFound and wraps anything else.
func notFound(what string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return fmt.Errorf("blob: %s: %w", what, err)
}

// LocalPath names the local file behind o, if there is one (the directory
// backend's objects).
func LocalPath(o Object) (string, bool) {
	if p, ok := o.(interface{ LocalPath() string }); ok {
		return p.LocalPath(), true
	}
	return "", false
}

// LocalFile gives a tool that reads files by path (the extractors, the
// preview converters) a file holding o: the file itself for the directory
// backend, else a copy of at most limit bytes in dir ("" for the system's
// temp directory) that done removes. Past limit it fails with ErrTooLarge.
func LocalFile(o Object, dir string, limit int64) (path string, done func(), err error) {
	if p, ok := LocalPath(o); ok {
		return p, func() {}, nil
	}
	if o.Size() > limit {
		return "", nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)
	}
	f, err := os.CreateTemp(dir, "docplat-blob-*")
	if err != nil {
		return "", nil, err
	}
	done = func() { os.Remove(f.Name()) }
	if _, err := o.Seek(0, io.SeekStart); err == nil {
		_, err = io.CopyBuffer(f, io.LimitReader(o, limit), make([]byte, copyBufSize))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		done()
		return "", nil, fmt.Errorf("blob: local copy: %w", err)
	}
	return f.Name(), done, nil
}
