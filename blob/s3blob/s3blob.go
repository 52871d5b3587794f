package s3blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/prometheus/client_golang/prometheus"

	"docplat/blob"
	"docplat/depfail"
)

// Dependency names S3 in the errors that make a request answer 503.
const Dependency = "the blob store (S3)"

const (
	stagingPrefix = "staging/"
	// smallObject: content up to this size is sent in one PUT from
	// memory; larger content streams as a multipart upload of partSize
	// parts, so one upload holds at most smallObject+partSize in memory.
	smallObject = 1 << 20
	partSize    = 8 << 20
	// opTimeout bounds a metadata request (stat, copy, delete, list page).
	opTimeout = 30 * time.Second
)

// Backend is a blob.Backend on one bucket.
type Backend struct {
	c      *minio.Client
	bucket string
	m      *metrics
}

var _ blob.Backend = (*Backend)(nil)

// Open connects to cfg's bucket, checks it exists (creating it when
// cfg.CreateBucket says so) and registers the docplat_blob_s3_* metrics
// on reg (nil: none).
func Open(ctx context.Context, cfg Config, reg prometheus.Registerer) (*Backend, error) {
	c, err := cfg.Client()
	if err != nil {
		return nil, fmt.Errorf("s3blob: %w", err)
	}
	b := &Backend{c: c, bucket: cfg.Bucket, m: newMetrics(reg)}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	switch {
	case err != nil:
		return nil, depfail.Wrap(Dependency, fmt.Errorf("s3blob: bucket %s at %s: %w", cfg.Bucket, cfg.Endpoint, err))
	case !ok && cfg.CreateBucket:
		// Instances starting together race to create it: one wins.
		err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if code := minio.ToErrorResponse(err).Code; err != nil && code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
			return nil, fmt.Errorf("s3blob: creating bucket %s: %w", cfg.Bucket, err)
		}
	case !ok:
		return nil, fmt.Errorf("s3blob: bucket %s does not exist at %s (create it, or set blob-s3-create-bucket)", cfg.Bucket, cfg.Endpoint)
	}
	return b, nil
}

// Kind is "s3".
func (b *Backend) Kind() string { return "s3" }

// Stage uploads r to a new object under staging/.
func (b *Backend) Stage(r io.Reader) (string, error) {
	name := "stage-" + randomHex()
	if err := b.put("stage", stagingPrefix+name, r); err != nil {
		return "", err
	}
	return name, nil
}

// Put uploads r under key; S3 makes an object visible only once complete.
func (b *Backend) Put(key string, r io.Reader) error { return b.put("put", key, r) }

// put sends content up to smallObject in one PUT, larger content as a
// multipart upload that minio-go aborts if the reader or S3 fails (one
// left behind by a crash is invisible and CleanStaged removes it). An
// error of r is returned as it is (the client's failure, or
// blob.ErrTooLarge); any other is S3's.
func (b *Backend) put(op, key string, r io.Reader) (err error) {
	defer b.m.observe(op, time.Now(), &err)
	src := &readErr{r: r}
	bp := smallBufs.Get().(*[]byte)
	defer smallBufs.Put(bp)
	buf := *bp
	n, rerr := io.ReadFull(src, buf)
	ctx := context.Background() // the body streams as long as it flows
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	switch rerr {
	case io.EOF, io.ErrUnexpectedEOF:
		_, err = b.c.PutObject(ctx, b.bucket, key, bytes.NewReader(buf[:n]), int64(n), opts)
	case nil:
		opts.PartSize = partSize
		_, err = b.c.PutObject(ctx, b.bucket, key, io.MultiReader(bytes.NewReader(buf), src), -1, opts)
	default:
		return rerr
	}
	if src.err != nil {
		return src.err
	}
	return b.fail(err)
}

// smallBufs hold the first smallObject bytes of uploads. A buffer goes
// back once PutObject has returned: its object was then stored whole, or
// not at all, whatever a transport goroutine still reads of the buffer.
var smallBufs = sync.Pool{New: func() any { b := make([]byte, smallObject); return &b }}

// readErr remembers the error its reader returned other than io.EOF.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

func (b *Backend) OpenStaged(name string) (blob.Object, error) {
	return b.Open(stagingPrefix + name)
}

func (b *Backend) RemoveStaged(name string) error { return b.Remove(stagingPrefix + name) }

// Publish copies the staged object to key inside S3, unless key exists
// (identical content, since keys are content hashes: the copy is skipped),
// then deletes the staged object. The caller serialises it with the
// collector's removal of key (the blobs row lock, see docs.Collector).
func (b *Backend) Publish(name, key string) (err error) {
	defer b.m.observe("publish", time.Now(), &err)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	staged := stagingPrefix + name
	if _, err := b.c.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{}); err == nil {
		return b.fail(b.c.RemoveObject(ctx, b.bucket, staged, minio.RemoveObjectOptions{}))
	} else if !notFound(err) {
		return b.fail(err)
	}
	_, err = b.c.ComposeObject(ctx, minio.CopyDestOptions{Bucket: b.bucket, Object: key},
		minio.CopySrcOptions{Bucket: b.bucket, Object: staged})
	if notFound(err) {
		return fmt.Errorf("%w (staged object %s is gone)", blob.ErrNotFound, name)
	}
	if err != nil {
		return b.fail(err)
	}
	return b.fail(b.c.RemoveObject(ctx, b.bucket, staged, minio.RemoveObjectOptions{}))
}

// Open starts a GET of key; its first response answers ErrNotFound or the
// size. Reads after a Seek ask for the range from there.
func (b *Backend) Open(key string) (_ blob.Object, err error) {
	defer b.m.observe("get", time.Now(), &err)
	o, err := b.c.GetObject(context.Background(), b.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, b.fail(err)
	}
	info, err := o.Stat()
	if err != nil {
		o.Close()
		if notFound(err) {
			return nil, fmt.Errorf("%w: %s", blob.ErrNotFound, key)
		}
		return nil, b.fail(err)
	}
	return &object{Object: o, size: info.Size, mod: info.LastModified}, nil
}

// object is an S3 object being read.
type object struct {
	*minio.Object
	size int64
	mod  time.Time
}

func (o *object) Size() int64        { return o.size }
func (o *object) ModTime() time.Time { return o.mod }

func (b *Backend) Stat(key string) (_ int64, _ time.Time, err error) {
	defer b.m.observe("stat", time.Now(), &err)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	info, err := b.c.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
	if notFound(err) {
		return 0, time.Time{}, fmt.Errorf("%w: %s", blob.ErrNotFound, key)
	}
	if err != nil {
		return 0, time.Time{}, b.fail(err)
	}
	return info.Size, info.LastModified, nil
}

func (b *Backend) Remove(key string) (err error) {
	defer b.m.observe("remove", time.Now(), &err)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	err = b.c.RemoveObject(ctx, b.bucket, key, minio.RemoveObjectOptions{})
	if notFound(err) {
		return nil
	}
	return b.fail(err)
}

// RemovePrefix lists and deletes every object under prefix.
func (b *Backend) RemovePrefix(prefix string) (err error) {
	defer b.m.observe("remove", time.Now(), &err)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	objs := make(chan minio.ObjectInfo)
	var listErr error
	go func() {
		defer close(objs)
		for o := range b.c.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if o.Err != nil {
				listErr = o.Err
				return
			}
			objs <- o
		}
	}()
	var errs []error
	for r := range b.c.RemoveObjects(ctx, b.bucket, objs, minio.RemoveObjectsOptions{}) {
		if r.Err != nil && !notFound(r.Err) {
			errs = append(errs, r.Err)
		}
	}
	return b.fail(errors.Join(append(errs, listErr)...))
}

// Walk lists the objects under prefix in key order.
func (b *Backend) Walk(prefix string, fn func(key string, size int64, modTime time.Time) error) (err error) {
	defer b.m.observe("list", time.Now(), &err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for o := range b.c.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return b.fail(o.Err)
		}
		if strings.HasPrefix(o.Key, stagingPrefix) {
			continue
		}
		if err := fn(o.Key, o.Size, o.LastModified); err != nil {
			return err
		}
	}
	return nil
}

// CleanStaged removes staged objects and unfinished multipart uploads of
// staged objects (a crash mid-upload) older than olderThan.
func (b *Backend) CleanStaged(olderThan time.Duration) (n int, err error) {
	defer b.m.observe("clean", time.Now(), &err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*opTimeout)
	defer cancel()
	cutoff := time.Now().Add(-olderThan)
	var errs []error
	for o := range b.c.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: stagingPrefix, Recursive: true}) {
		if o.Err != nil {
			errs = append(errs, o.Err)
			break
		}
		if !o.LastModified.Before(cutoff) {
			continue
		}
		if err := b.c.RemoveObject(ctx, b.bucket, o.Key, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	for u := range b.c.ListIncompleteUploads(ctx, b.bucket, stagingPrefix, true) {
		if u.Err != nil {
			errs = append(errs, u.Err)
			break
		}
		if !u.Initiated.Before(cutoff) {
			continue
		}
		if err := b.c.RemoveIncompleteUpload(ctx, b.bucket, u.Key); err != nil && !notFound(err) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, b.fail(errors.Join(errs...))
}

// Ping asks whether the bucket exists.
func (b *Backend) Ping(ctx context.Context) (err error) {
	defer b.m.observe("ping", time.Now(), &err)
	ok, err := b.c.BucketExists(ctx, b.bucket)
	if err == nil && !ok {
		err = fmt.Errorf("bucket %s does not exist", b.bucket)
	}
	return b.fail(err)
}

// fail marks an S3 error as a dependency failure: the request that met it
// answers 503 with Retry-After, not 500.
func (b *Backend) fail(err error) error {
	if err == nil {
		return nil
	}
	return depfail.Wrap(Dependency, err)
}

// notFound: S3 says the object (or multipart upload) does not exist. A
// missing bucket is not that: it is a failure of the deployment.
func notFound(err error) bool {
	if err == nil {
		return false
	}
	switch r := minio.ToErrorResponse(err); r.Code {
	case "NoSuchKey", "NoSuchUpload":
		return true
	case "":
		return r.StatusCode == http.StatusNotFound // a HEAD's answer has no body
	}
	return false
}

func randomHex() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b[:])
}
