package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
)

// headSize is how many leading bytes Staged.Head keeps for sniffing.
const headSize = 512

// copyBufSize bounds the memory one Stage uses for copying.
const copyBufSize = 32 << 10

// Staged is content written to a temp file and hashed, but not yet
// published. Call Commit to publish it or Discard to drop it; a Staged is
// safe for concurrent use.
type Staged struct {
	SHA256 string // lowercase hex sha256 of the content
	Size   int64  // content length in bytes
	Head   []byte // the first up to 512 bytes, for content-type sniffing

	store *Store
	tmp   string // temp path while not committed

	mu        sync.Mutex
	committed bool     // renamed to the final path
	discarded bool     // temp file removed by Discard
	toSync    []string // directories still to fsync after the rename
}

// Stage streams r into a new temp file in <dir>/blobs/tmp while hashing it.
// It reads at most limit+1 bytes and never holds the whole content in
// memory. More than limit bytes gives ErrTooLarge, no bytes gives ErrEmpty;
// on any error the temp file is removed. On success the temp file is
// fsynced and closed, and the caller must Commit or Discard it.
func (s *Store) Stage(r io.Reader, limit int64) (*Staged, error) {
	f, err := os.CreateTemp(s.tmp, "stage-*")
	if err != nil {
		return nil, fmt.Errorf("blob: stage: %w", err)
	}
	st, err := s.fill(f, r, limit)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return st, nil
}

// fill copies r into f, closing f on success.
func (s *Store) fill(f *os.File, r io.Reader, limit int64) (*Staged, error) {
	if limit < 0 {
		limit = 0
	}
	readLimit := limit
	if readLimit < math.MaxInt64 {
		readLimit++ // read one byte more to detect oversize content
	}
	h := sha256.New()
	head := &headWriter{}
	n, err := io.CopyBuffer(io.MultiWriter(f, h, head), io.LimitReader(r, readLimit), make([]byte, copyBufSize))
	switch {
	case err != nil:
		return nil, fmt.Errorf("blob: stage: %w", err)
	case n > limit:
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)
	case n == 0:
		return nil, ErrEmpty
	}
	// CreateTemp makes 0o600 files; published blobs are 0o644.
	if err := f.Chmod(0o644); err != nil {
		return nil, fmt.Errorf("blob: stage: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("blob: stage: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("blob: stage: close: %w", err)
	}
	return &Staged{
		SHA256: hex.EncodeToString(h.Sum(nil)),
		Size:   n,
		Head:   head.b,
		store:  s,
		tmp:    f.Name(),
	}, nil
}

// Open opens the staged content, or the final blob once committed.
func (st *Staged) Open() (*os.File, error) {
	st.mu.Lock()
	committed := st.committed
	st.mu.Unlock()
	if committed {
		return st.store.Open(st.SHA256)
	}
	f, err := os.Open(st.tmp)
	if err != nil {
		return nil, fmt.Errorf("blob: open staged %s: %w", st.SHA256, err)
	}
	return f, nil
}

// Commit publishes the content at <dir>/blobs/<sha[0:2]>/<sha[2:4]>/<sha>
// by renaming the temp file there, then fsyncs the fan-out directory so the
// rename is durable. An existing final file is replaced by the identical
// content, which also re-creates a blob a concurrent collector may just have
// removed. A second Commit is a no-op.
func (st *Staged) Commit() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.discarded {
		return fmt.Errorf("blob: commit %s: staged content was discarded", st.SHA256)
	}
	final, err := st.store.path(st.SHA256)
	if err != nil {
		return err
	}
	leaf := filepath.Dir(final)
	if !st.committed {
		created, err := publish(st.tmp, final)
		if err != nil {
			return fmt.Errorf("blob: commit %s: %w", st.SHA256, err)
		}
		// The content is visible now, even if the sync below fails.
		st.committed = true
		st.toSync = append([]string{leaf}, created...)
	}
	if st.toSync != nil {
		if err := syncDirs(st.toSync); err != nil {
			return fmt.Errorf("blob: commit %s: sync: %w", st.SHA256, err)
		}
		st.toSync = nil
	}
	return nil
}

// publish renames tmp to final, creating the fan-out directories. It
// returns the parents whose entries changed, innermost first. A fan-out
// directory removed by another process between mkdir and rename makes the
// rename fail with ENOENT, so that is retried a few times.
func publish(tmp, final string) (created []string, err error) {
	leaf := filepath.Dir(final)
	for attempt := 0; attempt < 3; attempt++ {
		var c []string
		if c, err = mkdirFanout(leaf); err != nil {
			return nil, err
		}
		created = append(created, c...)
		if err = os.Rename(tmp, final); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	return created, err
}

// Discard removes the temp file unless the content was committed. It is
// safe to call after Commit and more than once.
func (st *Staged) Discard() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.committed || st.discarded {
		return nil
	}
	st.discarded = true
	if err := os.Remove(st.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: discard %s: %w", st.SHA256, err)
	}
	return nil
}

// mkdirFanout creates the two fan-out levels above a blob and returns the
// parents whose entries changed (they need an fsync too), innermost first.
func mkdirFanout(leaf string) (created []string, err error) {
	mid := filepath.Dir(leaf)
	for _, dir := range []string{mid, leaf} {
		err := os.Mkdir(dir, 0o755)
		switch {
		case err == nil:
			created = append([]string{filepath.Dir(dir)}, created...)
		case !errors.Is(err, fs.ErrExist):
			return nil, err
		}
	}
	return created, nil
}

// syncDirs fsyncs dirs in order.
func syncDirs(dirs []string) error {
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// headWriter keeps the first headSize bytes written to it.
type headWriter struct{ b []byte }

func (w *headWriter) Write(p []byte) (int, error) {
	if n := headSize - len(w.b); n > 0 {
		w.b = append(w.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}
