package blob

import (
	"fmt"
	"strings"
	"time"
)

// Walk calls fn for every committed blob, in lexical order. It skips
// staged objects and any key that is not a valid hash in its matching
// fan-out. Blobs removed while Walk runs may be skipped. Walk stops and
// returns fn's error if fn returns one.
func (s *Store) Walk(fn func(sha string, size int64, modTime time.Time) error) error {
	var ferr error
	err := s.b.Walk("blobs/", func(key string, size int64, mod time.Time) error {
		parts := strings.Split(key, "/") // blobs, ab, cd, sha
		if len(parts) != 4 || !validHash(parts[3]) || parts[1] != parts[3][0:2] || parts[2] != parts[3][2:4] {
			return nil
		}
		ferr = fn(parts[3], size, mod)
		return ferr
	})
	if ferr != nil {
		return ferr
	}
	if err != nil {
		return fmt.Errorf("blob: walk: %w", err)
	}
	return nil
}

// CleanTemp removes staged objects last modified more than olderThan ago,
// the leftovers of crashed or abandoned uploads. olderThan must exceed the
// longest upload, or a live Stage loses its object. It returns how many it
// removed and keeps going past individual errors.
func (s *Store) CleanTemp(olderThan time.Duration) (int, error) {
	n, err := s.b.CleanStaged(olderThan)
	if err != nil {
		return n, fmt.Errorf("blob: clean temp: %w", err)
	}
	return n, nil
}
