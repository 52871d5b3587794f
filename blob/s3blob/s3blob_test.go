package s3blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"docplat/blob"
	"docplat/blob/blobtest"
	"docplat/depfail"
	"docplat/internal/testminio"
)

// server is the package's one MinIO (TestMain): each test has its own
// bucket on it.
var server *testminio.Server

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "s3blob-minio-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server, err = testminio.Launch(dir)
	if errors.Is(err, testminio.ErrNotBuilt) && os.Getenv("CI") == "" {
		fmt.Fprintf(os.Stderr, "s3blob: skipping the MinIO tests: %v\n", err)
		server = nil
	} else if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if server != nil {
		if err := s3Ready(server); err != nil {
			fmt.Fprintln(os.Stderr, err)
			server.Close()
			os.Exit(1)
		}
	}
	code := m.Run()
	if server != nil {
		server.Close()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// s3Ready waits for MinIO's S3 API: its health endpoint answers ready
// while the object layer still says "Server not initialized yet".
func s3Ready(s *testminio.Server) error {
	c, err := Config{Endpoint: s.Endpoint(), AccessKey: testminio.AccessKey, SecretKey: testminio.SecretKey}.Client()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.BucketExists(ctx, "probe")
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var buckets atomic.Int64

// config is a fresh bucket's configuration on the package's MinIO.
func config(t testing.TB) Config {
	t.Helper()
	if server == nil {
		t.Skip("MinIO is not built (scripts/minio.sh build)")
	}
	return Config{Endpoint: server.Endpoint(), Bucket: fmt.Sprintf("t%d-%d", time.Now().UnixNano()%1e9, buckets.Add(1)),
		AccessKey: testminio.AccessKey, SecretKey: testminio.SecretKey, CreateBucket: true}
}

func open(t testing.TB, cfg Config, reg prometheus.Registerer) *Backend {
	t.Helper()
	b, err := Open(context.Background(), cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSuite runs the backends' common suite on MinIO.
func TestSuite(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) (*blob.Store, func() *blob.Store) {
		cfg := config(t)
		return blob.New(open(t, cfg, nil)), func() *blob.Store { return blob.New(open(t, cfg, nil)) }
	})
}

// slowSource writes content into a pipe in 256 KB writes and calls
// midway once after `after` bytes.
func slowSource(content []byte, after int, midway func()) (*io.PipeReader, <-chan struct{}) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		called := false
		for off := 0; off < len(content); off += 256 << 10 {
			if !called && off >= after {
				midway()
				called = true
			}
			if _, err := pw.Write(content[off:min(off+256<<10, len(content))]); err != nil {
				return
			}
		}
		pw.Close()
	}()
	return pr, done
}

// TestKillMidUpload: MinIO dies (SIGKILL) in the middle of a 48 MB
// streaming upload. The upload fails as a dependency failure (503), and
// nothing of it is visible: no blob, no object at all, even after MinIO is
// back; the collector's cleaning drops the unfinished multipart upload,
// and a retry then succeeds.
func TestKillMidUpload(t *testing.T) {
	cfg := config(t)
	reg := prometheus.NewRegistry()
	b := open(t, cfg, reg)
	s := blob.New(b)
	content := blobtest.Content(48<<20, 11)

	pr, done := slowSource(content, 20<<20, func() {
		if err := server.Kill(); err != nil {
			t.Error(err)
		}
	})
	start := time.Now()
	_, err := s.Stage(pr, 100<<20)
	pr.CloseWithError(errors.New("test: upload over"))
	<-done
	if !errors.Is(err, depfail.ErrUnavailable) || depfail.Dependency(err) != Dependency {
		t.Fatalf("Stage with MinIO killed = %v, want a dependency failure of %s", err, Dependency)
	}
	t.Logf("the upload failed %v after it started: %v", time.Since(start).Round(time.Millisecond), err)
	if _, err := s.Open(strings.Repeat("a", 64)); !errors.Is(err, depfail.ErrUnavailable) {
		t.Fatalf("Open with MinIO down = %v, want a dependency failure", err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, depfail.ErrUnavailable) {
		t.Fatalf("Ping with MinIO down = %v", err)
	}
	if n := testutil.ToFloat64(b.m.errors.WithLabelValues("stage")); n < 1 {
		t.Fatalf("docplat_blob_s3_errors_total{op=stage} = %v", n)
	}

	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, s)
	ctx := t.Context()
	var keys []string
	for o := range b.c.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	if len(keys) != 0 {
		t.Fatalf("objects after the failed upload: %v", keys)
	}
	if _, err := s.Open(hashOf(content)); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("the interrupted content: %v", err)
	}
	if _, err := s.CleanTemp(-time.Minute); err != nil {
		t.Fatal(err)
	}
	for u := range b.c.ListIncompleteUploads(ctx, cfg.Bucket, "", true) {
		t.Fatalf("unfinished upload left after CleanTemp: %+v", u)
	}

	st, err := s.Stage(bytes.NewReader(content), 100<<20)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if err := st.Commit(); err != nil {
		t.Fatalf("retry: %v", err)
	}
	o, err := s.Open(st.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	got, err := io.ReadAll(o)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("retried content: %d bytes, %v", len(got), err)
	}
}

func waitReady(t *testing.T, s *blob.Store) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		err := s.Ping(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("MinIO not back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hashOf(b []byte) string { return sha256Hex(b) }

// TestMissingBucket: a bucket that does not exist stops start-up with a
// clear message unless blob-s3-create-bucket.
func TestMissingBucket(t *testing.T) {
	cfg := config(t)
	cfg.CreateBucket = false
	if _, err := Open(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Open of a missing bucket = %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Endpoint: "minio:9000", Bucket: "b", AccessKey: "a", SecretKey: "s"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (&Config{}).Validate(); err != nil {
		t.Fatalf("no endpoint (directory store): %v", err)
	}
	for _, bad := range []Config{
		{Endpoint: "http://minio:9000", Bucket: "b", AccessKey: "a", SecretKey: "s"},
		{Endpoint: "minio:9000", AccessKey: "a", SecretKey: "s"},
		{Endpoint: "minio:9000", Bucket: "b", SecretKey: "s"},
		{Endpoint: "minio:9000", Bucket: "b", AccessKey: "a"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
