package blob

import (
	"fmt"
	"strings"
)

// TempName names the staged object, so that a durable record (a
// transaction payload) can refer to it and another step, possibly after a
// restart and on another node sharing the backend, can publish it with
// PublishStaged.
func (st *Staged) TempName() string { return st.name }

// validStagedName: "stage-" and no path separator or dot-dot.
func validStagedName(name string) bool {
	return strings.HasPrefix(name, "stage-") && !strings.ContainsAny(name, `/\`) && !strings.Contains(name, "..")
}

// PublishStaged publishes the staged object called name as blob sha, like
// Staged.Commit. Publishing twice is fine: if the staged object is gone and
// the blob exists, it was published before.
func (s *Store) PublishStaged(name, sha string) error {
	if !validStagedName(name) {
		return fmt.Errorf("blob: %q is not a staged file name", name)
	}
	k, err := blobKey(sha)
	if err != nil {
		return err
	}
	if err := s.b.Publish(name, k); err != nil {
		return fmt.Errorf("blob: publish %s: %w", sha, err)
	}
	return nil
}
