package blob

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Walk calls fn for every committed blob, in lexical order. It skips tmp/
// and anything that is not a regular file with a valid hash name in its
// matching fan-out directory. Blobs removed while Walk runs are skipped.
// Walk stops and returns fn's error if fn returns one.
func (s *Store) Walk(fn func(sha string, size int64, modTime time.Time) error) error {
	l1s, err := readDir(s.blobs)
	if err != nil {
		return fmt.Errorf("blob: walk: %w", err)
	}
	for _, l1 := range l1s {
		if !fanoutName(l1) {
			continue
		}
		d1 := filepath.Join(s.blobs, l1.Name())
		l2s, err := readDir(d1)
		if err != nil {
			return fmt.Errorf("blob: walk: %w", err)
		}
		for _, l2 := range l2s {
			if !fanoutName(l2) {
				continue
			}
			prefix := l1.Name() + l2.Name()
			files, err := readDir(filepath.Join(d1, l2.Name()))
			if err != nil {
				return fmt.Errorf("blob: walk: %w", err)
			}
			for _, f := range files {
				sha := f.Name()
				if !f.Type().IsRegular() || !validHash(sha) || !strings.HasPrefix(sha, prefix) {
					continue
				}
				fi, err := f.Info()
				if errors.Is(err, fs.ErrNotExist) {
					continue
				} else if err != nil {
					return fmt.Errorf("blob: walk: %w", err)
				}
				if err := fn(sha, fi.Size(), fi.ModTime()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// CleanTemp removes temp files ("stage-*" in tmp/) last modified more than
// olderThan ago, the leftovers of crashed or abandoned uploads. olderThan
// must exceed the longest upload, or a live Stage loses its file. It returns
// how many files it removed and keeps going past individual errors.
func (s *Store) CleanTemp(olderThan time.Duration) (int, error) {
	entries, err := readDir(s.tmp)
	if err != nil {
		return 0, fmt.Errorf("blob: clean temp: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	var n int
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), "stage-") {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		if !fi.ModTime().Before(cutoff) {
			continue
		}
		err = os.Remove(filepath.Join(s.tmp, e.Name()))
		switch {
		case err == nil:
			n++
		case !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("blob: clean temp: %w", err)
	}
	return n, nil
}

// fanoutName reports whether e is a fan-out directory: two lowercase hex
// characters.
func fanoutName(e fs.DirEntry) bool {
	name := e.Name()
	if !e.IsDir() || len(name) != 2 {
		return false
	}
	for i := 0; i < 2; i++ {
		c := name[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// readDir is os.ReadDir that treats a directory removed meanwhile as empty.
func readDir(dir string) ([]fs.DirEntry, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}
