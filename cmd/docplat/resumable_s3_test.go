package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"docplat/internal/failpoint"
	"docplat/internal/testdb"
	"docplat/internal/testminio"
	"docplat/internal/wait"
	"docplat/resumable"
)

// uploadsBucket is a bucket of mc for one test's uploads (created at the
// app's startup).
func uploadsBucket(mc *testminio.Server, name string) resumable.S3 {
	return resumable.S3{Endpoint: mc.Endpoint(), Bucket: name, AccessKey: testminio.AccessKey, SecretKey: testminio.SecretKey, CreateBucket: true}
}

// s3Config is the app's config with unfinished uploads in bucket, and
// documents of up to 32 MiB (several 5 MiB parts).
func s3Config(t *testing.T, bucket resumable.S3) config {
	cfg := testConfig(t, testdb.MariaDB)
	cfg.Docs.MaxUploadBytes = 32 << 20
	cfg.Uploads.S3 = &bucket
	return cfg
}

// bucketHolds lists what the bucket holds under the uploads' prefix: its
// objects, and the multipart uploads of the uploads at locs (MinIO lists
// multipart uploads only by their exact key).
func bucketHolds(t *testing.T, b resumable.S3, locs ...string) (objects, multiparts []string) {
	t.Helper()
	c := s3Client(b)
	ctx := context.Background()
	objs, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.Bucket), Prefix: aws.String(resumable.S3Prefix)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs.Contents {
		objects = append(objects, aws.ToString(o.Key))
	}
	for _, loc := range locs {
		key := resumable.S3Prefix + strings.TrimPrefix(loc, resumable.BasePath)
		mps, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b.Bucket), Prefix: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range mps.Uploads {
			multiparts = append(multiparts, aws.ToString(u.Key))
		}
	}
	return objects, multiparts
}

// restartOnFailure restarts mc at the end of a test that failed before it
// did, so that the next tests have their MinIO.
func restartOnFailure(t *testing.T, mc *testminio.Server) {
	t.Cleanup(func() {
		if t.Failed() {
			_ = mc.Start()
		}
	})
}

func s3Client(b resumable.S3) *s3.Client {
	return s3.New(s3.Options{BaseEndpoint: aws.String("http://" + b.Endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(b.AccessKey, b.SecretKey, "")})
}

// TestResumableUploadsOnS3: with S3 configured, unfinished uploads live in
// the bucket under uploads/ (tusd's S3 store: a multipart upload each), not
// on an instance's disk. One MinIO serves the subtests, each its own bucket.
func TestResumableUploadsOnS3(t *testing.T) {
	mc := testminio.Start(t)

	// An upload started on A continues on B (own data directories, one
	// database, Redis and bucket) and becomes a document of exactly the
	// bytes sent; its parts, tail and info are removed from the bucket.
	t.Run("AcrossInstances", func(t *testing.T) {
		bucket := uploadsBucket(mc, "across")
		cfg := s3Config(t, bucket)
		sharedRedisConfig(t, &cfg)
		a := startApp(t, cfg)
		cfg.Store.DB.DataDir = t.TempDir()
		b := startApp(t, cfg)
		_, onA := setupDepartment(a, "Physics", 1<<30)
		onB := &client{app: b, token: onA.token}
		data := handout(12 << 20)
		loc := onA.mustTusCreate(len(data), map[string]string{"filename": "lecture.txt", "title": "S3 讲义"})
		first := 7 << 20 // a 5 MiB part and a 2 MiB tail
		if r := onA.tusPatch(loc, 0, bytes.NewReader(data[:first])); r.status != http.StatusNoContent || r.header.Get("Upload-Offset") != strconv.Itoa(first) {
			t.Fatalf("PATCH on A: %d %s offset %q", r.status, r.body, r.header.Get("Upload-Offset"))
		}
		objects, multiparts := bucketHolds(t, bucket, loc)
		if len(objects) != 2 || len(multiparts) != 1 {
			t.Fatalf("bucket holds %v and multipart uploads %v, want the info, the tail and one multipart upload", objects, multiparts)
		}
		if f := tusFiles(a); len(f) != 0 {
			t.Fatalf("A's disk holds %v of an upload on S3", f)
		}
		if got := onB.tusOffset(loc); got != first {
			t.Fatalf("B's offset = %d, want %d", got, first)
		}
		r := onB.tusPatch(loc, first, bytes.NewReader(data[first:]))
		if r.status != http.StatusNoContent || r.header.Get("Upload-Document-Id") == "" {
			t.Fatalf("final PATCH on B: %d %s", r.status, r.body)
		}
		id := r.header.Get("Upload-Document-Id")
		var d document
		onB.doJSON("GET", "/api/v1/documents/"+id, nil, 200, &d)
		if d.SHA256 != sha(data) || d.Size != int64(len(data)) || d.Title != "S3 讲义" {
			t.Fatalf("document = %+v, want sha256 %s", d, sha(data))
		}
		if got := onB.do("GET", "/api/v1/documents/"+id+"/content", nil, nil); sha(got.body) != sha(data) {
			t.Fatal("the stored content differs from the bytes sent")
		}
		if s := onA.tusState(loc); s.State != "done" || s.DocumentID != id {
			t.Fatalf("A's view of the upload: %+v", s)
		}
		if objects, multiparts := bucketHolds(t, bucket, loc); len(objects)+len(multiparts) != 0 {
			t.Fatalf("bucket still holds %v %v after the upload was done", objects, multiparts)
		}
		if fa, fb := tusFiles(a), tusFiles(b); len(fa)+len(fb) != 0 {
			t.Fatalf("the instances' disks hold %v %v", fa, fb)
		}
	})

	// MinIO dies in the middle of a PATCH: the client is told 503 with
	// Retry-After (and so are a HEAD and a creation while it is down, the
	// creation leaving no record to count against the user's limit); after the restart
	// HEAD gives the offset S3 acknowledged (the first part), the upload
	// resumes from there and the document is exactly the bytes sent.
	t.Run("MinIOKilledMidPatch", func(t *testing.T) {
		bucket := uploadsBucket(mc, "killed")
		a := startApp(t, s3Config(t, bucket))
		_, member := setupDepartment(a, "Chemistry", 1<<30)
		data := handout(12 << 20)
		loc := member.mustTusCreate(len(data), map[string]string{"filename": "chemistry.txt"})
		pr, pw := io.Pipe()
		patched := make(chan response, 1)
		go func() { patched <- member.tusPatch(loc, 0, pr) }()
		if _, err := pw.Write(data[:6<<20]); err != nil {
			t.Fatal(err)
		}
		wait.For(t, wait.Limit, "the first 5 MiB part to be stored", func() bool {
			return member.tusState(loc).Offset >= 5<<20
		})
		if err := mc.Kill(); err != nil {
			t.Fatal(err)
		}
		restartOnFailure(t, mc)
		go func() { _, _ = pw.Write(data[6<<20:]); _ = pw.Close() }()
		r := <-patched
		if r.status != http.StatusServiceUnavailable || r.errorCode() != "unavailable" || r.header.Get("Retry-After") == "" {
			t.Fatalf("PATCH with MinIO killed: %d %s Retry-After %q", r.status, r.body, r.header.Get("Retry-After"))
		}
		h := member.do("HEAD", loc, nil, map[string]string{"Tus-Resumable": "1.0.0"})
		if h.status != http.StatusServiceUnavailable || h.header.Get("Retry-After") == "" {
			t.Fatalf("HEAD with MinIO down: %d %v", h.status, h.header)
		}
		// A creation while S3 is down is refused and leaves no record.
		if r, _ := member.tusCreate(100, map[string]string{"filename": "meanwhile.txt"}); r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
			t.Fatalf("POST with MinIO down: %d %s", r.status, r.body)
		}
		if n := a.countRows("resumable_uploads"); n != 1 {
			t.Fatalf("records = %d after a refused creation, want 1", n)
		}
		if err := mc.Start(); err != nil {
			t.Fatal(err)
		}
		var offset int
		wait.For(t, wait.Limit, "HEAD to answer after MinIO's restart", func() bool {
			r := member.do("HEAD", loc, nil, map[string]string{"Tus-Resumable": "1.0.0"})
			offset, _ = strconv.Atoi(r.header.Get("Upload-Offset"))
			return r.status == http.StatusOK
		})
		if offset != 5<<20 {
			t.Fatalf("offset after the restart = %d, want the acknowledged part, %d", offset, 5<<20)
		}
		r = member.tusPatch(loc, offset, bytes.NewReader(data[offset:]))
		if r.status != http.StatusNoContent || r.header.Get("Upload-Document-Id") == "" {
			t.Fatalf("resumed PATCH: %d %s", r.status, r.body)
		}
		id := r.header.Get("Upload-Document-Id")
		var d document
		member.doJSON("GET", "/api/v1/documents/"+id, nil, 200, &d)
		if d.SHA256 != sha(data) || d.Size != int64(len(data)) {
			t.Fatalf("document = %+v, want sha256 %s", d, sha(data))
		}
		if got := member.do("GET", "/api/v1/documents/"+id+"/content", nil, nil); sha(got.body) != sha(data) {
			t.Fatal("the stored content differs from the bytes sent")
		}
		if objects, multiparts := bucketHolds(t, bucket, loc); len(objects)+len(multiparts) != 0 {
			t.Fatalf("bucket still holds %v %v", objects, multiparts)
		}
	})

	// MinIO dies after the last byte is stored and before the multipart
	// upload is assembled: the final PATCH is told 503 and nothing is
	// written; after the restart GET assembles it and finishes it into the
	// document, exactly the bytes sent.
	t.Run("MinIOKilledBeforeAssembly", func(t *testing.T) {
		bucket := uploadsBucket(mc, "assembly")
		a := startApp(t, s3Config(t, bucket))
		_, member := setupDepartment(a, "Biology", 1<<30)
		data := handout(7 << 20)
		loc := member.mustTusCreate(len(data), map[string]string{"filename": "biology.txt"})
		var killed atomic.Bool
		failpoint.Enable(t, failpoint.ResumableBeforeAssembly, func(scope any) error {
			if scope == bucket.Bucket && killed.CompareAndSwap(false, true) {
				if err := mc.Kill(); err != nil {
					t.Error(err)
				}
				restartOnFailure(t, mc)
			}
			return nil
		})
		r := member.tusPatch(loc, 0, bytes.NewReader(data))
		if !killed.Load() || r.status != http.StatusServiceUnavailable || r.errorCode() != "unavailable" || r.header.Get("Retry-After") == "" {
			t.Fatalf("final PATCH with MinIO killed before the assembly (killed %v): %d %s", killed.Load(), r.status, r.body)
		}
		if n := a.countRows("documents"); n != 0 {
			t.Fatalf("documents = %d", n)
		}
		if err := mc.Start(); err != nil {
			t.Fatal(err)
		}
		var s uploadState
		wait.For(t, wait.Limit, "GET to finish the upload", func() bool {
			r := member.do("GET", loc, nil, nil)
			return r.status == 200 && json.Unmarshal(r.body, &s) == nil && s.State == "done"
		})
		var d document
		member.doJSON("GET", "/api/v1/documents/"+s.DocumentID, nil, 200, &d)
		if d.SHA256 != sha(data) || d.Size != int64(len(data)) {
			t.Fatalf("document = %+v, want sha256 %s", d, sha(data))
		}
		if objects, multiparts := bucketHolds(t, bucket, loc); len(objects)+len(multiparts) != 0 {
			t.Fatalf("bucket still holds %v %v", objects, multiparts)
		}
	})

	// Expired uploads are removed from the bucket: their multipart uploads
	// aborted, their info and tail deleted; so is what no record claims
	// once it is older than the expiry (an instance died between S3's
	// requests and the record's). The clock is stepped, not slept.
	t.Run("Expiry", func(t *testing.T) {
		bucket := uploadsBucket(mc, "expiry")
		var skew atomic.Int64
		cfg := s3Config(t, bucket)
		cfg.Uploads.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		a := startApp(t, cfg)
		_, member := setupDepartment(a, "History", 1<<30)
		data := handout(8 << 20)
		begun := member.mustTusCreate(len(data), map[string]string{"filename": "begun.txt"})
		if r := member.tusPatch(begun, 0, bytes.NewReader(data[:6<<20])); r.status != http.StatusNoContent {
			t.Fatalf("PATCH: %d %s", r.status, r.body)
		}
		empty := member.mustTusCreate(100, map[string]string{"filename": "empty.txt"})
		// No record: the instance died before writing it (as if).
		orphan := member.mustTusCreate(100, map[string]string{"filename": "orphan.txt"})
		if _, err := a.db.SQL().Exec("DELETE FROM resumable_uploads WHERE id = ?", strings.TrimPrefix(orphan, resumable.BasePath)); err != nil {
			t.Fatal(err)
		}
		// No info object: S3 failed after the multipart upload's creation (as if).
		infoless := member.mustTusCreate(100, map[string]string{"filename": "infoless.txt"})
		ctx := context.Background()
		if _, err := s3Client(bucket).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket.Bucket),
			Key: aws.String(resumable.S3Prefix + strings.TrimPrefix(infoless, resumable.BasePath) + ".info")}); err != nil {
			t.Fatal(err)
		}
		// A part a dead process left on its way to S3.
		if err := os.WriteFile(filepath.Join(resumable.Dir(a.cfg.Store.DB.DataDir), "tusd-s3-tmp-1234"), []byte("part"), 0o600); err != nil {
			t.Fatal(err)
		}
		all := []string{begun, empty, orphan, infoless}
		objects, multiparts := bucketHolds(t, bucket, all...)
		if len(objects) != 4 || len(multiparts) != 4 {
			t.Fatalf("bucket holds %v and multipart uploads %v, want 3 infos, a tail and 4 multipart uploads", objects, multiparts)
		}
		if n, err := a.uploads.Cleanup(ctx); err != nil || n != 0 {
			t.Fatalf("cleanup before the expiry: %d %v", n, err)
		}
		if o, m := bucketHolds(t, bucket, all...); len(o) != 4 || len(m) != 4 || len(tusFiles(a)) != 1 {
			t.Fatalf("the cleanup before the expiry removed data: %v %v %v", o, m, tusFiles(a))
		}
		skew.Store(int64(24*time.Hour + time.Minute))
		if n, err := a.uploads.Cleanup(ctx); err != nil || n != 3 {
			t.Fatalf("cleanup after the expiry: %d %v, want the 3 recorded uploads", n, err)
		}
		if o, m := bucketHolds(t, bucket, all...); len(o)+len(m) != 0 {
			t.Fatalf("bucket holds %v and multipart uploads %v after the cleanup", o, m)
		}
		if f := tusFiles(a); len(f) != 0 {
			t.Fatalf("scratch holds %v after the cleanup", f)
		}
		if n := a.countRows("resumable_uploads"); n != 0 {
			t.Fatalf("records left: %d", n)
		}
	})
}

// BenchmarkResumableUpload measures one 12 MiB tus upload end to end (the
// creation, one PATCH of every byte, the finish into a document) with the
// unfinished bytes in the data directory and in a MinIO bucket, in one
// run: what keeping them in S3 costs.
//
//	go test -run '^$' -bench ResumableUpload ./cmd/docplat
func BenchmarkResumableUpload(b *testing.B) {
	mc := testminio.Start(b)
	data := handout(12 << 20)
	for _, where := range []string{"dir", "s3"} {
		b.Run(where, func(b *testing.B) {
			cfg := testConfig(b, testdb.MariaDB)
			cfg.Docs.MaxUploadBytes = 32 << 20
			if where == "s3" {
				bucket := uploadsBucket(mc, "bench")
				cfg.Uploads.S3 = &bucket
			}
			a := startApp(b, cfg)
			_, member := setupDepartment(a, "Bench", 1<<40)
			b.SetBytes(int64(len(data)))
			for i := 0; b.Loop(); i++ {
				loc := member.mustTusCreate(len(data), map[string]string{"filename": fmt.Sprintf("bench-%d.txt", i)})
				if r := member.tusPatch(loc, 0, bytes.NewReader(data)); r.status != http.StatusNoContent || r.header.Get("Upload-Document-Id") == "" {
					b.Fatalf("PATCH: %d %s", r.status, r.body)
				}
			}
		})
	}
}
