package resumable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/s3store"

	"docplat/internal/failpoint"
)

// S3 is the bucket unfinished uploads live in when the blobs do (the blob
// store's S3 settings, DOCPLAT_BLOB_S3_*; this package declares no flags
// of its own). Any instance can then continue an upload another one
// started, and an instance's death loses none of the bytes it
// acknowledged.
type S3 struct {
	Endpoint  string // host:port
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string // "" is us-east-1 (MinIO's default)
	TLS       bool   // https to the endpoint
	// CreateBucket creates the bucket at startup when it is missing;
	// otherwise a missing bucket fails the startup.
	CreateBucket bool
}

// S3Prefix is where unfinished uploads live in the bucket: <id>.info
// (tusd's FileInfo), <id>.part (the tail shorter than a part), the
// multipart upload of key <id>, and, between the last byte and the
// document's commit, the assembled object <id>.
const S3Prefix = "uploads/"

// s3 multipart parts are at least 5 MiB (except the last). tusd's store
// keeps a shorter tail as an object of its own and rewrites it on the next
// PATCH, so the preferred part is the minimum: at most 5 MiB is rewritten
// per PATCH, and at most maxBufferedParts parts wait on local disk.
const (
	s3PartSize       = 5 << 20
	maxBufferedParts = 4
)

func (c S3) validate() error {
	var errs []error
	if c.Endpoint == "" || strings.Contains(c.Endpoint, "/") {
		errs = append(errs, fmt.Errorf("S3 endpoint %q must be host:port", c.Endpoint))
	}
	if c.Bucket == "" {
		errs = append(errs, errors.New("S3 bucket is required"))
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		errs = append(errs, errors.New("S3 access and secret keys are required"))
	}
	return errors.Join(errs...)
}

// client is an S3 client for c: path-style addressing (MinIO and most
// S3-compatible servers), static keys, checksums only where S3 requires
// them (tusd's store sends MD5/SHA-256 of every part already).
func (c S3) client() *s3.Client {
	scheme := "http"
	if c.TLS {
		scheme = "https"
	}
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	return s3.New(s3.Options{
		BaseEndpoint:               aws.String(scheme + "://" + c.Endpoint),
		Region:                     region,
		Credentials:                credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, ""),
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// ensureBucket checks the bucket at startup, creating it when it is
// missing and c.CreateBucket says so.
func (c S3) ensureBucket(ctx context.Context, cl *s3.Client) error {
	_, err := cl.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(c.Bucket)})
	var nf *types.NotFound
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &nf) && !isS3Code(err, "NoSuchBucket"):
		return fmt.Errorf("resumable: checking S3 bucket %q at %s: %w", c.Bucket, c.Endpoint, err)
	case !c.CreateBucket:
		return fmt.Errorf("resumable: S3 bucket %q does not exist at %s (create it, or let docplat create it)", c.Bucket, c.Endpoint)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(c.Bucket)}
	if c.Region != "" && c.Region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(c.Region)}
	}
	_, err = cl.CreateBucket(ctx, in)
	if err != nil && !isS3Code(err, "BucketAlreadyOwnedByYou") {
		return fmt.Errorf("resumable: creating S3 bucket %q at %s: %w", c.Bucket, c.Endpoint, err)
	}
	return nil
}

func isS3Code(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}

// errStoreDown is what a tus request is told when S3 failed under it: 503
// (with Retry-After, from the server's rendering). What S3 acknowledged
// stays; HEAD gives the offset to resume from.
var errStoreDown = handler.NewError("ERR_STORE_UNAVAILABLE",
	"the upload store (S3) is unavailable; resume from the offset HEAD gives, shortly", http.StatusServiceUnavailable)

// s3Data is tusd's S3 store under docplat's upload ids. tusd's S3 ids are
// "<object id>+<multipart upload id>", known only once the multipart
// upload exists; docplat's id is the object id (its record's, in every
// URL and idempotency key), and the full id is read back from the
// upload's info object, which every instance can reach.
type s3Data struct {
	tus    s3store.S3Store
	client *s3.Client
	bucket string
	log    *slog.Logger

	mu  sync.Mutex
	ids map[string]string // docplat id -> tusd id; immutable once made
}

// maxRemembered bounds the ids an instance remembers; past it, they are
// read from S3 again.
const maxRemembered = 10000

func newS3Data(ctx context.Context, c S3, scratch string, log *slog.Logger) (*s3Data, error) {
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("resumable: %w", err)
	}
	cl := c.client()
	if err := c.ensureBucket(ctx, cl); err != nil {
		return nil, err
	}
	st := s3store.New(c.Bucket, cl)
	st.ObjectPrefix = S3Prefix
	st.MinPartSize, st.PreferredPartSize = s3PartSize, s3PartSize
	st.MaxBufferedParts = maxBufferedParts
	st.TemporaryDirectory = scratch // parts wait here on their way to S3
	st.Service = guarded{cl}
	return &s3Data{tus: st, client: cl, bucket: c.Bucket, log: log, ids: map[string]string{}}, nil
}

func (d *s3Data) registerMetrics(reg prometheus.Registerer) { d.tus.RegisterMetrics(reg) }

func (d *s3Data) UseIn(c *handler.StoreComposer) {
	c.UseCore(d)
	c.UseTerminater(d)
}

func (d *s3Data) NewUpload(ctx context.Context, info handler.FileInfo) (handler.Upload, error) {
	id := info.ID // docplat's, set by the creation hook
	up, err := d.store().NewUpload(ctx, info)
	if err != nil {
		// tusd formats S3's error into its own (%s): every failure here
		// is S3's (the size is bounded far below S3's limit).
		return nil, d.down("creating an upload", err)
	}
	full, err := up.GetInfo(ctx) // as NewUpload wrote it: no request
	if err != nil {
		return nil, d.unavailable("creating an upload", err)
	}
	d.remember(id, full.ID)
	return &s3Upload{Upload: up, id: id, d: d}, nil
}

func (d *s3Data) GetUpload(ctx context.Context, id string) (handler.Upload, error) {
	full, err := d.tusID(ctx, id)
	if err != nil {
		return nil, err
	}
	up, err := d.store().GetUpload(ctx, full)
	if err != nil {
		return nil, d.unavailable("reading an upload", err)
	}
	return &s3Upload{Upload: up, id: id, d: d}, nil
}

// store is tusd's store for one upload: its parts go to S3 one at a time,
// in order (tusd's limit on concurrent parts is per store value). With
// guarded, a part that failed is never followed by a stored later one: a
// hole the offset (the sum of the parts) would not show, and the bytes
// after it would be assembled in the wrong place.
func (d *s3Data) store() *s3store.S3Store {
	st := d.tus
	st.SetConcurrentPartUploads(1)
	return &st
}

func (d *s3Data) AsTerminatableUpload(up handler.Upload) handler.TerminatableUpload {
	return up.(*s3Upload)
}

// tusID is tusd's id of docplat's upload id, from its info object.
func (d *s3Data) tusID(ctx context.Context, id string) (string, error) {
	d.mu.Lock()
	full, ok := d.ids[id]
	d.mu.Unlock()
	if ok {
		return full, nil
	}
	res, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(S3Prefix + id + ".info")})
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return "", handler.ErrNotFound
	}
	if err != nil {
		return "", d.unavailable("reading an upload's info", err)
	}
	defer res.Body.Close()
	var info handler.FileInfo
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&info); err != nil {
		return "", d.unavailable("reading an upload's info", err)
	}
	if !strings.HasPrefix(info.ID, id+"+") {
		return "", fmt.Errorf("resumable: the info object of upload %s names %q", id, info.ID)
	}
	d.remember(id, info.ID)
	return info.ID, nil
}

func (d *s3Data) remember(id, full string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.ids) >= maxRemembered {
		clear(d.ids)
	}
	d.ids[id] = full
}

func (d *s3Data) forget(id string) {
	d.mu.Lock()
	delete(d.ids, id)
	d.mu.Unlock()
}

// unavailable turns S3 failing under a request into errStoreDown (503);
// tusd's own errors (not found, incomplete) and a request's end pass.
func (d *s3Data) unavailable(what string, err error) error {
	var tusErr handler.Error
	var op *smithy.OperationError
	switch {
	case err == nil, errors.As(err, &tusErr), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &op), errors.Is(err, errAfterFailedPart):
		return d.down(what, err)
	}
	return err
}

// down is errStoreDown for S3's err (logged), but a request's end.
func (d *s3Data) down(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	d.log.Warn("resumable upload store (S3) failed", "what", what, "err", err)
	return errStoreDown
}

// sweep removes, past cutoff, the uploads no live record claims: through
// tusd (remove) where the info object exists, else the objects and
// multipart uploads themselves (a crash between tusd's requests). MinIO
// lists no multipart uploads by a prefix that is not an object's key: a
// multipart upload with neither record nor info object (a crash in the
// milliseconds between creating it and its info) is then left to MinIO's
// own expiry of stale uploads (api stale_uploads_expiry, 24h by default),
// as to an AbortIncompleteMultipartUpload lifecycle rule on AWS.
func (d *s3Data) sweep(ctx context.Context, cutoff time.Time, live func(string) bool, remove func(string)) error {
	var errs []error
	d.sweepScratch(cutoff)
	objects := s3.NewListObjectsV2Paginator(d.client, &s3.ListObjectsV2Input{Bucket: aws.String(d.bucket), Prefix: aws.String(S3Prefix)})
	for objects.HasMorePages() {
		page, err := objects.NextPage(ctx)
		if err != nil {
			errs = append(errs, err)
			break
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), S3Prefix)
			id := strings.TrimSuffix(strings.TrimSuffix(name, ".info"), ".part")
			if o.LastModified == nil || o.LastModified.After(cutoff) || id == "" || strings.Contains(id, "/") || live(id) {
				continue
			}
			if strings.HasSuffix(name, ".info") {
				remove(id)
				continue
			}
			if _, err := d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(d.bucket), Key: o.Key}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(d.bucket), Prefix: aws.String(S3Prefix)}
	for {
		page, err := d.client.ListMultipartUploads(ctx, in)
		if err != nil {
			errs = append(errs, err)
			break
		}
		for _, u := range page.Uploads {
			id := strings.TrimPrefix(aws.ToString(u.Key), S3Prefix)
			if u.Initiated == nil || u.Initiated.After(cutoff) || strings.Contains(id, "/") || live(id) {
				continue
			}
			_, err := d.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(d.bucket), Key: u.Key, UploadId: u.UploadId})
			if err != nil && !isS3Code(err, "NoSuchUpload") {
				errs = append(errs, err)
			}
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
	return errors.Join(errs...)
}

// purge removes what S3 holds of upload id when tusd cannot address it
// (no info object) or its creation failed half-way: an instance died, or
// S3 failed, between the multipart upload's creation and the info's, or
// between the two halves of a Terminate. MinIO lists multipart uploads only by their exact key,
// which the id gives.
func (d *s3Data) purge(ctx context.Context, id string) error {
	key := S3Prefix + id
	res, err := d.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(d.bucket), Prefix: aws.String(key)})
	if err != nil {
		return err
	}
	var errs []error
	for _, u := range res.Uploads {
		if aws.ToString(u.Key) != key {
			continue
		}
		_, err := d.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(d.bucket), Key: u.Key, UploadId: u.UploadId})
		if err != nil && !isS3Code(err, "NoSuchUpload") {
			errs = append(errs, err)
		}
	}
	for _, k := range []string{key, key + ".part", key + ".info"} {
		if _, err := d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(k)}); err != nil {
			errs = append(errs, err)
		}
	}
	d.forget(id)
	return errors.Join(errs...)
}

// sweepScratch removes the parts a PATCH left on local disk when its
// process died before sending them (tusd removes them otherwise).
func (d *s3Data) sweepScratch(cutoff time.Time) {
	files, _ := filepath.Glob(filepath.Join(d.tus.TemporaryDirectory, "tusd-s3-*"))
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.ModTime().Before(cutoff) {
			_ = os.Remove(f)
		}
	}
}

// s3Upload is tusd's upload under docplat's id, S3's failures as 503.
type s3Upload struct {
	handler.Upload
	id string
	d  *s3Data
}

func (u *s3Upload) GetInfo(ctx context.Context) (handler.FileInfo, error) {
	info, err := u.Upload.GetInfo(ctx)
	info.ID = u.id
	return info, u.d.unavailable("reading an upload's offset", err)
}

func (u *s3Upload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	ctx = context.WithValue(ctx, guardKey{}, new(partGuard))
	n, err := u.Upload.WriteChunk(ctx, offset, src)
	return n, u.d.unavailable("writing a part", err)
}

func (u *s3Upload) GetReader(ctx context.Context) (io.ReadCloser, error) {
	r, err := u.Upload.GetReader(ctx)
	return r, u.d.unavailable("reading a finished upload", err)
}

func (u *s3Upload) FinishUpload(ctx context.Context) error {
	return u.d.unavailable("completing the multipart upload", u.Upload.FinishUpload(ctx))
}

func (u *s3Upload) Terminate(ctx context.Context) error {
	err := u.d.tus.AsTerminatableUpload(u.Upload).Terminate(ctx)
	if err == nil {
		u.d.forget(u.id)
	}
	return u.d.unavailable("removing an upload", err)
}

// guarded is the S3 client under tusd's store: within one PATCH (its
// context carries a partGuard), once a part or the tail failed to be
// stored, no later one is sent. (And the tests' failpoint before a
// multipart upload is completed.)
type guarded struct{ *s3.Client }

type guardKey struct{}

type partGuard struct{ failed atomic.Bool }

var errAfterFailedPart = errors.New("resumable: not stored: an earlier part of this PATCH failed")

func (g guarded) UploadPart(ctx context.Context, in *s3.UploadPartInput, opt ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	pg, _ := ctx.Value(guardKey{}).(*partGuard)
	if pg != nil && pg.failed.Load() {
		return nil, errAfterFailedPart
	}
	out, err := g.Client.UploadPart(ctx, in, opt...)
	if err != nil && pg != nil {
		pg.failed.Store(true)
	}
	return out, err
}

func (g guarded) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opt ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	if err := failpoint.Inject(failpoint.ResumableBeforeAssembly, aws.ToString(in.Bucket)); err != nil {
		return nil, err
	}
	return g.Client.CompleteMultipartUpload(ctx, in, opt...)
}

func (g guarded) PutObject(ctx context.Context, in *s3.PutObjectInput, opt ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	pg, _ := ctx.Value(guardKey{}).(*partGuard)
	if pg != nil && pg.failed.Load() {
		return nil, errAfterFailedPart
	}
	out, err := g.Client.PutObject(ctx, in, opt...)
	if err != nil && pg != nil {
		pg.failed.Store(true)
	}
	return out, err
}
