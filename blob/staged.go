package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
)

// headSize is how many leading bytes Staged.Head keeps for sniffing.
const headSize = 512

// copyBufSize bounds the memory one Stage uses for copying.
const copyBufSize = 32 << 10

// Staged is content written to the backend's staging area and hashed, but
// not yet published. Call Commit to publish it or Discard to drop it; a
// Staged is safe for concurrent use.
type Staged struct {
	SHA256 string // lowercase hex sha256 of the content
	Size   int64  // content length in bytes
	Head   []byte // the first up to 512 bytes, for content-type sniffing

	store *Store
	name  string // the staged object's name

	mu        sync.Mutex
	committed bool // published under its key
	discarded bool // staged object removed by Discard
}

// Stage streams r into a new staged object while hashing it. It reads at
// most limit+1 bytes and never holds the whole content in memory (the S3
// backend buffers one part at a time). More than limit bytes gives
// ErrTooLarge, no bytes gives ErrEmpty; on any error nothing stays staged.
// On success the staged object is durable, and the caller must Commit or
// Discard it.
func (s *Store) Stage(r io.Reader, limit int64) (*Staged, error) {
	h := sha256.New()
	head := &headWriter{}
	lr := &limitedReader{r: r, left: max(limit, 0)}
	name, err := s.b.Stage(io.TeeReader(lr, io.MultiWriter(h, head)))
	switch {
	case errors.Is(err, ErrTooLarge):
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)
	case err != nil:
		return nil, fmt.Errorf("blob: stage: %w", err)
	case lr.n == 0:
		_ = s.b.RemoveStaged(name)
		return nil, ErrEmpty
	}
	return &Staged{SHA256: hex.EncodeToString(h.Sum(nil)), Size: lr.n, Head: head.b, store: s, name: name}, nil
}

// limitedReader passes at most left bytes of r and fails with ErrTooLarge
// at the one after, so that a backend never publishes or keeps oversize
// content (it sees a failing reader).
type limitedReader struct {
	r    io.Reader
	left int64
	n    int64 // bytes passed
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left < math.MaxInt64 && int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		return 0, ErrTooLarge
	}
	l.left -= int64(n)
	l.n += int64(n)
	return n, err
}

// Open opens the staged content, or the final blob once committed.
func (st *Staged) Open() (Object, error) {
	st.mu.Lock()
	committed := st.committed
	st.mu.Unlock()
	if committed {
		return st.store.Open(st.SHA256)
	}
	o, err := st.store.b.OpenStaged(st.name)
	if err != nil {
		return nil, fmt.Errorf("blob: open staged %s: %w", st.SHA256, err)
	}
	return o, nil
}

// Commit publishes the content under its key (see Backend.Publish). A
// second Commit is a no-op.
func (st *Staged) Commit() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.discarded {
		return fmt.Errorf("blob: commit %s: staged content was discarded", st.SHA256)
	}
	if st.committed {
		return nil
	}
	if err := st.store.PublishStaged(st.name, st.SHA256); err != nil {
		return err
	}
	st.committed = true
	return nil
}

// Discard removes the staged content unless it was committed. It is safe
// to call after Commit and more than once.
func (st *Staged) Discard() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.committed || st.discarded {
		return nil
	}
	st.discarded = true
	if err := st.store.b.RemoveStaged(st.name); err != nil {
		return fmt.Errorf("blob: discard %s: %w", st.SHA256, err)
	}
	return nil
}

// headWriter keeps the first headSize bytes written to it.
type headWriter struct{ b []byte }

func (w *headWriter) Write(p []byte) (int, error) {
	if n := headSize - len(w.b); n > 0 {
		w.b = append(w.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}
