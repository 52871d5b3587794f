package blob_test

import (
	"testing"

	"docplat/blob"
	"docplat/blob/blobtest"
)

// TestSuite runs the backends' common suite on the directory backend.
func TestSuite(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) (*blob.Store, func() *blob.Store) {
		dir := t.TempDir()
		open := func() *blob.Store {
			s, err := blob.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return open(), open
	})
}
