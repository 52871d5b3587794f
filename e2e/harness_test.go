package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"docplat/internal/localcluster"
	"docplat/nginx"
)

// cluster is scripts/cluster.sh's cluster on ports, a directory and
// databases of its own (localcluster), with an HTTP client signed in as admin.
type cluster struct {
	*localcluster.Cluster
	t      testing.TB // the test or benchmark using it now
	client *http.Client
	token  string // the admin's bearer token
}

// Timings the tests run the cluster with: short enough for CI, long enough
// for a loaded 2-core machine.
const (
	hotMinDuration = 2 * time.Second
	hotWindow      = time.Second
)

var (
	shared     *cluster
	sharedOnce sync.Once
	sharedErr  error
)

// startCluster starts one cluster for the package (it takes ~15 s) and
// stops it when the tests end (TestMain).
func startCluster(t testing.TB) *cluster {
	t.Helper()
	if err := nginx.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("nginx with Lua is required in CI: %v", err)
		}
		t.Skipf("nginx with Lua is not installed (scripts/nginx-install.sh): %v", err)
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	if os.Getenv("DOCPLAT_TEST_SKIP_MYSQL") != "" {
		t.Skip("DOCPLAT_TEST_SKIP_MYSQL: the cluster runs on MariaDB")
	}
	sharedOnce.Do(func() { shared, sharedErr = launch() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	shared.t = t
	return shared
}

func launch() (*cluster, error) {
	opts := localcluster.Options{WorkerConns: 4096, Env: []string{
		"DOCPLAT_HOT_MIN_DURATION=" + hotMinDuration.String(), "DOCPLAT_HOT_WINDOW=" + hotWindow.String(),
		"DOCPLAT_HOT_LEASE=8s", "DOCPLAT_KAFKA_SESSION_TIMEOUT=3s", "DOCPLAT_LOG_LEVEL=info"}}
	if scaledOut() {
		opts.S3, opts.RedisCluster, opts.Replica = true, true, true
	}
	lc, err := localcluster.LaunchWith(context.Background(), "..", opts, nil)
	if err != nil {
		return nil, err
	}
	c := &cluster{Cluster: lc,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}}
	var login struct{ Token string }
	if err := c.json("POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": lc.Password}, &login); err != nil {
		c.Stop()
		return nil, err
	}
	c.token = login.Token
	return c, nil
}

// scaledOut reports whether the package runs on the scaled-out shape
// (DOCPLAT_E2E_SHAPE=scaled; make test runs the package both ways): blobs
// on MinIO, L2 and the hot set on a Redis Cluster, reads from a MariaDB
// replica, with the same tests as on one Redis node, MariaDB and a blob
// directory.
func scaledOut() bool { return os.Getenv("DOCPLAT_E2E_SHAPE") == "scaled" }

func (c *cluster) url(path string) string { return c.NginxURL() + path }

func (c *cluster) json(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.url(path), body)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

type document struct {
	ID       string `json:"id"`
	SHA256   string `json:"sha256"`
	Revision int    `json:"revision"`
}

// upload creates a document (method POST) or a new version of id (PUT).
func (c *cluster) upload(method, id string, content []byte, visibility string) document {
	c.t.Helper()
	return c.uploadFields(method, id, content, visibility, nil)
}

// uploadFields is upload with more form fields for a new document
// (publish_at, lecture_at).
func (c *cluster) uploadFields(method, id string, content []byte, visibility string, fields map[string]string) document {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "handout.txt")
	fw.Write(content)
	path := "/api/v1/documents"
	if method == "POST" {
		mw.WriteField("title", "handout")
		mw.WriteField("visibility", visibility)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
	} else {
		path += "/" + id + "/content"
	}
	mw.Close()
	req, _ := http.NewRequest(method, c.url(path), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		c.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	var d document
	json.Unmarshal(b, &d)
	return d
}

// read is one content read through nginx.
type read struct {
	start, end time.Time
	status     int
	etag, tier string
	err        error
}

func (c *cluster) get(path string, header http.Header) read {
	r := read{start: time.Now()}
	req, _ := http.NewRequest("GET", c.url(path), nil)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.client.Do(req)
	if err != nil {
		r.err, r.end = err, time.Now()
		return r
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	r.end, r.status, r.etag, r.tier = time.Now(), res.StatusCode, res.Header.Get("ETag"), res.Header.Get("X-Cache")
	return r
}

// burst reads path from n goroutines until stop is called, recording every read.
type burst struct {
	stopped atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	reads   []read
}

func (c *cluster) burst(path string, n int) *burst {
	b := &burst{}
	for range n {
		b.wg.Go(func() {
			for !b.stopped.Load() {
				r := c.get(path, nil)
				b.mu.Lock()
				b.reads = append(b.reads, r)
				b.mu.Unlock()
			}
		})
	}
	return b
}

func (b *burst) stop() []read {
	b.stopped.Store(true)
	b.wg.Wait()
	return b.reads
}

func (b *burst) snapshot() []read {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]read(nil), b.reads...)
}

func (c *cluster) hot() []string {
	var out struct {
		Items []struct {
			DocumentID string `json:"document_id"`
		} `json:"items"`
	}
	if err := c.json("GET", "/api/v1/stats/hot", nil, &out); err != nil {
		c.t.Logf("stats/hot: %v", err)
	}
	ids := make([]string, len(out.Items))
	for i, it := range out.Items {
		ids[i] = it.DocumentID
	}
	return ids
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *cluster) kill(name string) {
	if err := c.Kill(context.Background(), name); err != nil {
		c.t.Fatal(err)
	}
}

// secret reads one of the secrets cluster.sh generated.
func (c *cluster) secret(name string) []byte {
	c.t.Helper()
	v, err := c.Secret(name)
	if err != nil {
		c.t.Fatal(err)
	}
	return []byte(v)
}
