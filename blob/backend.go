package blob

import (
	"context"
	"io"
	"time"
)

// Backend is where a Store keeps its bytes: a local directory (DirBackend,
// the default) or an S3 bucket (package blob/s3blob). The Store owns what
// is common to both (hashing, the size limit, key names, validation); a
// backend only moves bytes under keys ("blobs/ab/cd/<sha>",
// "derived/ab/cd/<sha>/<name>") and staged names ("stage-..."), with the
// guarantees below, which the suite in package blob/blobtest checks on
// each backend:
//
//   - Stage and Put never make anything visible under a key before every
//     byte is durable; a failing reader or backend leaves nothing a reader
//     can open (at most a staged leftover that CleanStaged removes).
//   - A staged name is usable from any process on the same backend (a
//     transaction's recovery publishes it, possibly after a restart).
//   - Publish is idempotent: a staged name gone with its key present is
//     success, as after a crash between the publish and its record.
type Backend interface {
	// Kind names the backend: "dir" or "s3".
	Kind() string
	// Stage streams r into a new staged object and returns its name. It
	// reads r to its end; an error from r is returned as is.
	Stage(r io.Reader) (name string, err error)
	OpenStaged(name string) (Object, error)
	RemoveStaged(name string) error
	// Publish makes staged name the object key and removes the staged copy.
	Publish(name, key string) error
	// Put stores r under key, replacing it whole.
	Put(key string, r io.Reader) error
	// Open reads key (ErrNotFound when absent); Stat is its size and time.
	Open(key string) (Object, error)
	Stat(key string) (size int64, modTime time.Time, err error)
	// Remove deletes key (absent is fine); RemovePrefix every key under
	// prefix (which ends in "/").
	Remove(key string) error
	RemovePrefix(prefix string) error
	// Walk calls fn for every key under prefix (ending in "/"), staged
	// objects excluded; keys removed meanwhile may or may not be seen.
	Walk(prefix string, fn func(key string, size int64, modTime time.Time) error) error
	// CleanStaged removes staged objects last modified more than olderThan
	// ago and says how many.
	CleanStaged(olderThan time.Duration) (int, error)
	// Ping checks the backend answers (for /readyz).
	Ping(ctx context.Context) error
}

// Object is an opened blob or derived file: seekable (http.ServeContent
// answers Range requests from it), with its size and modification time.
// A directory backend's is a file (LocalPath names it); an S3 backend's
// reads ranges of the object on demand.
type Object interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}
