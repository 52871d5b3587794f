package blob

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Derived files are made from a blob (a preview's page images, an Office
// file converted to PDF) and stored beside it, addressed by the blob's
// sha256 and a name: derived/<sha[0:2]>/<sha[2:4]>/<sha>/<name>. Like
// blobs they are never visible half-written, and identical contents share
// them. The store does not know what they mean; whoever collects a blob
// removes its derived files with it (RemoveDerived).

// ErrInvalidName: a derived file's name is not 1 to 100 of [a-z0-9.-]
// starting with a letter or digit.
var ErrInvalidName = errors.New("blob: invalid derived file name")

// PutDerived stores r (at most limit bytes, ErrTooLarge past it) as the
// derived file name of blob sha, replacing one of that name.
func (s *Store) PutDerived(sha, name string, r io.Reader, limit int64) error {
	key, err := derivedKey(sha, name)
	if err != nil {
		return err
	}
	if err := s.b.Put(key, &limitedReader{r: r, left: max(limit, 0)}); err != nil {
		if errors.Is(err, ErrTooLarge) {
			return fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)
		}
		return fmt.Errorf("blob: put derived %s/%s: %w", sha, name, err)
	}
	return nil
}

// OpenDerived opens the derived file name of blob sha (ErrNotFound when
// there is none).
func (s *Store) OpenDerived(sha, name string) (Object, error) {
	key, err := derivedKey(sha, name)
	if err != nil {
		return nil, err
	}
	return s.b.Open(key)
}

// RemoveDerived removes every derived file of blob sha; none is not an
// error.
func (s *Store) RemoveDerived(sha string) error {
	if !validHash(sha) {
		return fmt.Errorf("%w: %q", ErrInvalidHash, sha)
	}
	if err := s.b.RemovePrefix(derivedPrefix(sha)); err != nil {
		return fmt.Errorf("blob: remove derived %s: %w", sha, err)
	}
	return nil
}

// WalkDerived calls fn for every blob that has derived files, with the
// time its newest derived file was written (for a collector's grace
// period), whether or not the blob itself still exists.
func (s *Store) WalkDerived(fn func(sha string, modTime time.Time) error) error {
	// A backend lists keys in order, so one blob's files are adjacent.
	var cur string
	var newest time.Time
	err := s.b.Walk("derived/", func(key string, _ int64, mod time.Time) error {
		parts := strings.Split(key, "/") // derived, ab, cd, sha, name
		if len(parts) != 5 || !validHash(parts[3]) || parts[1] != parts[3][0:2] || parts[2] != parts[3][2:4] {
			return nil
		}
		if sha := parts[3]; sha != cur {
			if cur != "" {
				if err := fn(cur, newest); err != nil {
					return err
				}
			}
			cur, newest = sha, mod
		} else if mod.After(newest) {
			newest = mod
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("blob: walk derived: %w", err)
	}
	if cur != "" {
		return fn(cur, newest)
	}
	return nil
}

func derivedPrefix(sha string) string {
	return "derived/" + sha[0:2] + "/" + sha[2:4] + "/" + sha + "/"
}

func derivedKey(sha, name string) (string, error) {
	if !validHash(sha) {
		return "", fmt.Errorf("%w: %q", ErrInvalidHash, sha)
	}
	if !validName(name) {
		return "", fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	return derivedPrefix(sha) + name, nil
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
