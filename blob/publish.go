package blob

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TempName names the staged file inside the store's tmp directory, so that
// a durable record (a transaction payload) can refer to it and another
// step, possibly after a restart, can publish it with PublishStaged.
func (st *Staged) TempName() string { return filepath.Base(st.tmp) }

// PublishStaged publishes the staged file called name as blob sha, like
// Staged.Commit. Publishing twice is fine: if the staged file is gone and
// the blob exists, it was published before.
func (s *Store) PublishStaged(name, sha string) error {
	if !strings.HasPrefix(name, "stage-") || strings.ContainsAny(name, `/\`) || name != filepath.Base(name) {
		return fmt.Errorf("blob: %q is not a staged file name", name)
	}
	final, err := s.path(sha)
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.tmp, name)
	if _, err := os.Stat(tmp); errors.Is(err, fs.ErrNotExist) {
		if _, ferr := os.Stat(final); ferr == nil {
			return nil
		}
		return fmt.Errorf("blob: publish %s: %w (staged file %s is gone)", sha, ErrNotFound, name)
	}
	created, err := publish(tmp, final)
	if err != nil {
		return fmt.Errorf("blob: publish %s: %w", sha, err)
	}
	return syncDirs(append([]string{filepath.Dir(final)}, created...))
}
