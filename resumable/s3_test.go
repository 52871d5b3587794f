package resumable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/tus/tusd/v2/pkg/handler"
)

// TestS3FailuresAre503: S3 failing under a request (an operation error
// of the SDK, or a part not sent after an earlier one failed) is tus's
// error with 503; tusd's own errors and a request's end pass unchanged.
func TestS3FailuresAre503(t *testing.T) {
	d := &s3Data{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	down := &smithy.OperationError{ServiceID: "S3", OperationName: "UploadPart", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		err  error
		want error
	}{
		{nil, nil},
		{down, errStoreDown},
		{fmt.Errorf("s3store: unable to list parts:\n%w", down), errStoreDown},
		{errAfterFailedPart, errStoreDown},
		{handler.ErrNotFound, handler.ErrNotFound},
		{errIncomplete, errIncomplete},
		{context.Canceled, context.Canceled},
		{&smithy.OperationError{Err: context.Canceled}, context.Canceled},
	} {
		got := d.unavailable("test", tc.err)
		if !errors.Is(got, tc.want) || (tc.want == nil) != (got == nil) {
			t.Errorf("unavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	// tusd's creation formats S3's error (%s): still S3's.
	if got := d.down("test", fmt.Errorf("s3store: unable to create multipart upload:\n%s", down)); !errors.Is(got, errStoreDown) {
		t.Errorf("a creation's failure = %v", got)
	}
	if got := d.down("test", context.Canceled); !errors.Is(got, context.Canceled) {
		t.Errorf("a request's end = %v", got)
	}
	var he handler.Error
	if !errors.As(d.unavailable("test", down), &he) || he.HTTPResponse.StatusCode != 503 {
		t.Fatalf("S3 down answers %+v, want 503", he)
	}
}

func TestS3Validate(t *testing.T) {
	ok := S3{Endpoint: "127.0.0.1:9000", Bucket: "docplat", AccessKey: "a", SecretKey: "s"}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []S3{{}, {Endpoint: "http://minio:9000", Bucket: "b", AccessKey: "a", SecretKey: "s"}, {Endpoint: "minio:9000", AccessKey: "a", SecretKey: "s"}, {Endpoint: "minio:9000", Bucket: "b"}} {
		if bad.validate() == nil {
			t.Errorf("%+v was accepted", bad)
		}
	}
}

// TestNoPartAfterAFailedOne: within one PATCH (a context with a
// partGuard), once storing a part failed, no later part or tail is sent to
// S3 (it would leave a hole the offset does not show); outside a PATCH,
// every call goes through.
func TestNoPartAfterAFailedOne(t *testing.T) {
	c := S3{Endpoint: "127.0.0.1:1", Bucket: "b", AccessKey: "a", SecretKey: "s"}.client() // nothing listens
	g := guarded{c}
	once := func(o *s3.Options) { o.RetryMaxAttempts = 1 }
	part := &s3.UploadPartInput{Bucket: aws.String("b"), Key: aws.String("k"), UploadId: aws.String("u"), PartNumber: aws.Int32(1), Body: strings.NewReader("x")}
	ctx := context.WithValue(context.Background(), guardKey{}, new(partGuard))
	var op *smithy.OperationError
	if _, err := g.UploadPart(ctx, part, once); !errors.As(err, &op) {
		t.Fatalf("the first part: %v, want S3's failure", err)
	}
	part.PartNumber = aws.Int32(2)
	if _, err := g.UploadPart(ctx, part, once); !errors.Is(err, errAfterFailedPart) {
		t.Fatalf("the next part: %v, want it not sent", err)
	}
	tail := &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k.part"), Body: strings.NewReader("x")}
	if _, err := g.PutObject(ctx, tail, once); !errors.Is(err, errAfterFailedPart) {
		t.Fatalf("the tail: %v, want it not sent", err)
	}
	// Another PATCH (or no PATCH: creation, info) is not affected.
	if _, err := g.PutObject(context.Background(), tail, once); !errors.As(err, &op) {
		t.Fatalf("a call outside the PATCH: %v, want it sent", err)
	}
}
