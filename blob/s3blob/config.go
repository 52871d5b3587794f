// Package s3blob is the blob store's S3 backend (blob.Backend) on
// github.com/minio/minio-go/v7: the only package that imports it. Keys are
// the store's (blobs/ab/cd/<sha>, derived/ab/cd/<sha>/<name>); staged
// uploads are objects under staging/, so that any node can publish one
// (a transaction's recovery after a restart, on another machine).
package s3blob

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"docplat/internal/envflag"
)

// Config is the connection to an S3 bucket: what the blob-s3-* flags
// parse into, and what other S3 users in the process (the resumable
// uploads' partial data) are handed by the command's wiring.
type Config struct {
	// Endpoint is host:port of the S3 service; empty: no S3, blobs stay
	// in the data directory.
	Endpoint  string
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string // empty: the service's default (us-east-1 for MinIO)
	TLS       bool   // https to Endpoint
	// CreateBucket creates Bucket at start-up when it is missing (local
	// clusters and tests; production buckets are made by the operator).
	CreateBucket bool
}

// Bind declares the blob-s3-* flags onto c.
func (c *Config) Bind(b *envflag.Set) {
	b.String(&c.Endpoint, "blob-s3-endpoint", "", "S3 endpoint host:port (MinIO, AWS...) keeping blobs and previews; empty keeps them in the data directory")
	b.String(&c.Bucket, "blob-s3-bucket", "", "S3 bucket of the blobs (required with blob-s3-endpoint)")
	b.String(&c.AccessKey, "blob-s3-access-key", "", "S3 access key (required with blob-s3-endpoint)")
	b.String(&c.SecretKey, "blob-s3-secret-key", "", "S3 secret key (required with blob-s3-endpoint)")
	b.String(&c.Region, "blob-s3-region", "", "S3 region; empty: the service's default")
	b.Bool(&c.TLS, "blob-s3-tls", true, "connect to blob-s3-endpoint over https")
	b.Bool(&c.CreateBucket, "blob-s3-create-bucket", false, "create blob-s3-bucket at start-up if it does not exist (local clusters; production buckets are made by the operator)")
}

// Enabled reports whether an S3 endpoint is configured.
func (c Config) Enabled() bool { return c.Endpoint != "" }

// Validate checks a configured endpoint has what it needs.
func (c *Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	if strings.Contains(c.Endpoint, "/") {
		errs = append(errs, errors.New("Endpoint must be host:port, without a scheme or path (blob-s3-tls chooses https)"))
	} else if _, _, err := net.SplitHostPort(c.Endpoint); err != nil && !strings.Contains(err.Error(), "missing port") {
		errs = append(errs, errors.New("Endpoint must be host:port: "+err.Error()))
	}
	if c.Bucket == "" {
		errs = append(errs, errors.New("Bucket must be set with blob-s3-endpoint"))
	}
	if c.AccessKey == "" {
		errs = append(errs, errors.New("AccessKey must be set with blob-s3-endpoint"))
	}
	if c.SecretKey == "" {
		errs = append(errs, errors.New("SecretKey must be set with blob-s3-endpoint"))
	}
	return errors.Join(errs...)
}

// Client is a minio-go client for c. Its transport bounds the wait for a
// connection and for a response's headers, so that an unreachable S3
// fails a request in seconds (503) instead of hanging it; a body streams
// as long as it flows.
func (c Config) Client() (*minio.Client, error) {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return minio.New(c.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure:    c.TLS,
		Region:    c.Region,
		Transport: t,
		// minio-go retries 10 times by default, with backoff: a dead
		// endpoint would hold each request for many seconds.
		MaxRetries: 2,
	})
}
