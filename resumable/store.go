package resumable

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"
)

// dataStore is where the bytes of unfinished uploads live: tusd's file
// store in a shared directory (the default), or tusd's S3 store in the
// blob bucket (Options.S3). Either is addressed by docplat's upload ids.
type dataStore interface {
	UseIn(composer *handler.StoreComposer)
	NewUpload(ctx context.Context, info handler.FileInfo) (handler.Upload, error)
	GetUpload(ctx context.Context, id string) (handler.Upload, error)
	AsTerminatableUpload(up handler.Upload) handler.TerminatableUpload
	// purge removes what the store holds of id when tusd finds no upload
	// there (its info is gone; bytes may remain).
	purge(ctx context.Context, id string) error
	// sweep calls remove for every upload whose data was written before
	// cutoff and which live does not claim; it removes on its own what
	// tusd's Terminate cannot reach (an S3 multipart upload or object
	// whose info object is gone). Errors are the store's, for the log.
	sweep(ctx context.Context, cutoff time.Time, live func(id string) bool, remove func(id string)) error
}

// dirStore is tusd's file store: <id> (the bytes) and <id>.info.
type dirStore struct {
	filestore.FileStore
}

func (d dirStore) sweep(_ context.Context, cutoff time.Time, live func(string) bool, remove func(string)) error {
	infos, err := filepath.Glob(filepath.Join(d.Path, "*.info"))
	if err != nil {
		return err
	}
	for _, path := range infos {
		fi, err := os.Stat(path)
		if err != nil || fi.ModTime().After(cutoff) {
			continue
		}
		id := strings.TrimSuffix(filepath.Base(path), ".info")
		if !live(id) {
			remove(id)
		}
	}
	return nil
}

func (d dirStore) purge(_ context.Context, id string) error {
	var errs []error
	for _, name := range []string{id, id + ".info"} {
		if err := os.Remove(filepath.Join(d.Path, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// creating is the store as tusd's core: an upload whose data the store
// failed to create (S3 or the disk failing under the POST) loses its
// record and whatever the store made of it, so that a client retrying
// its creation through an outage does not fill its limit of unfinished
// uploads with dead ones until they expire.
type creating struct {
	dataStore
	s *Service
}

func (c creating) NewUpload(ctx context.Context, info handler.FileInfo) (handler.Upload, error) {
	up, err := c.dataStore.NewUpload(ctx, info)
	if err == nil || info.ID == "" {
		return up, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if derr := c.s.db2(ctx).Where("id = ? AND state = ?", info.ID, Uploading).Delete(&record{}).Error; derr != nil {
		c.s.log.WarnContext(ctx, "removing the record of an upload whose creation failed (it expires)", "upload_id", info.ID, "err", derr)
	}
	// What the store made with neither record nor info is the sweep's,
	// or on MinIO its expiry of stale multipart uploads.
	if perr := c.dataStore.purge(ctx, info.ID); perr != nil {
		c.s.log.WarnContext(ctx, "removing what a failed upload creation left in the store", "upload_id", info.ID, "err", perr)
	}
	return up, err
}
