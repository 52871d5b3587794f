package blob

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Errors returned by the store; test with errors.Is.
var (
	ErrNotFound    = errors.New("blob: not found")
	ErrTooLarge    = errors.New("blob: content exceeds the size limit")
	ErrEmpty       = errors.New("blob: content is empty")
	ErrInvalidHash = errors.New("blob: invalid sha256")
)

// Store is a blob store rooted at a directory. It holds no state besides
// paths, so a Store is safe for concurrent use, and several processes may
// open stores on the same directory.
type Store struct {
	dir   string // as given to Open
	blobs string // <dir>/blobs
	tmp   string // <dir>/blobs/tmp
}

// Open prepares <dir>/blobs and <dir>/blobs/tmp and returns the store.
func Open(dir string) (*Store, error) {
	s := &Store{
		dir:   dir,
		blobs: filepath.Join(dir, "blobs"),
		tmp:   filepath.Join(dir, "blobs", "tmp"),
	}
	if err := os.MkdirAll(s.tmp, 0o755); err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", dir, err)
	}
	return s, nil
}

// Dir returns the root directory given to Open.
func (s *Store) Dir() string { return s.dir }

// Open returns the committed blob sha for reading.
func (s *Store) Open(sha string) (*os.File, error) {
	p, err := s.path(sha)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(sha, err)
	}
	return f, nil
}

// Stat returns the size and modification time of the committed blob sha.
func (s *Store) Stat(sha string) (size int64, modTime time.Time, err error) {
	p, err := s.path(sha)
	if err != nil {
		return 0, time.Time{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, time.Time{}, notFound(sha, err)
	}
	return fi.Size(), fi.ModTime(), nil
}

// Remove deletes the committed blob sha; removing an absent blob is not an
// error. Fan-out directories are left in place: removing them could race
// with a concurrent Commit into the same directory.
func (s *Store) Remove(sha string) error {
	p, err := s.path(sha)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: remove %s: %w", sha, err)
	}
	return nil
}

// path returns the final path of sha, or ErrInvalidHash.
func (s *Store) path(sha string) (string, error) {
	if !validHash(sha) {
		return "", fmt.Errorf("%w: %q", ErrInvalidHash, sha)
	}
	return filepath.Join(s.blobs, sha[0:2], sha[2:4], sha), nil
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
func notFound(sha string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, sha)
	}
	return fmt.Errorf("blob: %s: %w", sha, err)
}
