package blob

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Derived files are made from a blob (a preview's page images, an Office
// file converted to PDF) and stored beside it, addressed by the blob's
// sha256 and a name: <dir>/derived/<sha[0:2]>/<sha[2:4]>/<sha>/<name>.
// Like blobs they are written to tmp/, fsynced and published by one
// rename, so a reader never sees half of one, and identical contents share
// them. The store does not know what they mean; whoever collects a blob
// removes its derived files with it (RemoveDerived).

// ErrInvalidName: a derived file's name is not 1 to 100 of [a-z0-9.-]
// starting with a letter or digit.
var ErrInvalidName = errors.New("blob: invalid derived file name")

// PutDerived stores r (at most limit bytes, ErrTooLarge past it) as the
// derived file name of blob sha, replacing one of that name.
func (s *Store) PutDerived(sha, name string, r io.Reader, limit int64) error {
	final, err := s.derivedPath(sha, name)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.tmp, "stage-derived-*")
	if err != nil {
		return fmt.Errorf("blob: put derived: %w", err)
	}
	if err := writeDerived(f, r, limit); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	dir := filepath.Dir(final)
	created, err := mkdirAll(dir)
	if err == nil {
		err = os.Rename(f.Name(), final)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("blob: put derived %s/%s: %w", sha, name, err)
	}
	if err := syncDirs(append([]string{dir}, created...)); err != nil {
		return fmt.Errorf("blob: put derived %s/%s: sync: %w", sha, name, err)
	}
	return nil
}

func writeDerived(f *os.File, r io.Reader, limit int64) error {
	n, err := io.CopyBuffer(f, io.LimitReader(r, limit+1), make([]byte, copyBufSize))
	switch {
	case err != nil:
		return fmt.Errorf("blob: put derived: %w", err)
	case n > limit:
		return fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("blob: put derived: sync: %w", err)
	}
	return f.Close()
}

// OpenDerived opens the derived file name of blob sha (ErrNotFound when
// there is none).
func (s *Store) OpenDerived(sha, name string) (*os.File, error) {
	p, err := s.derivedPath(sha, name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(sha+"/"+name, err)
	}
	return f, nil
}

// RemoveDerived removes every derived file of blob sha; none is not an
// error.
func (s *Store) RemoveDerived(sha string) error {
	if !validHash(sha) {
		return fmt.Errorf("%w: %q", ErrInvalidHash, sha)
	}
	if err := os.RemoveAll(s.derivedDir(sha)); err != nil {
		return fmt.Errorf("blob: remove derived %s: %w", sha, err)
	}
	return nil
}

// WalkDerived calls fn for every blob that has derived files, with the
// time its derived directory last changed (for a collector's grace
// period), whether or not the blob itself still exists.
func (s *Store) WalkDerived(fn func(sha string, modTime time.Time) error) error {
	root := filepath.Join(s.dir, "derived")
	l1s, err := readDir(root)
	if err != nil {
		return fmt.Errorf("blob: walk derived: %w", err)
	}
	for _, l1 := range l1s {
		if !fanoutName(l1) {
			continue
		}
		l2s, err := readDir(filepath.Join(root, l1.Name()))
		if err != nil {
			return fmt.Errorf("blob: walk derived: %w", err)
		}
		for _, l2 := range l2s {
			if !fanoutName(l2) {
				continue
			}
			shas, err := readDir(filepath.Join(root, l1.Name(), l2.Name()))
			if err != nil {
				return fmt.Errorf("blob: walk derived: %w", err)
			}
			for _, d := range shas {
				sha := d.Name()
				if !d.IsDir() || !validHash(sha) || sha[:2] != l1.Name() || sha[2:4] != l2.Name() {
					continue
				}
				fi, err := d.Info()
				if errors.Is(err, fs.ErrNotExist) {
					continue
				} else if err != nil {
					return fmt.Errorf("blob: walk derived: %w", err)
				}
				if err := fn(sha, fi.ModTime()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *Store) derivedDir(sha string) string {
	return filepath.Join(s.dir, "derived", sha[0:2], sha[2:4], sha)
}

func (s *Store) derivedPath(sha, name string) (string, error) {
	if !validHash(sha) {
		return "", fmt.Errorf("%w: %q", ErrInvalidHash, sha)
	}
	if !validName(name) {
		return "", fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	return filepath.Join(s.derivedDir(sha), name), nil
}

func validName(name string) bool {
	if len(name) == 0 || len(name) > 100 || name[0] == '.' || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// mkdirAll creates dir and its missing parents and returns the parents
// whose entries changed (they need an fsync), innermost first.
func mkdirAll(dir string) (created []string, err error) {
	if _, err := os.Stat(dir); err == nil {
		return nil, nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if created, err = mkdirAll(parent); err != nil {
			return nil, err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return append([]string{parent}, created...), nil
}
