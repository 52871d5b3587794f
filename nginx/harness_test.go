package nginx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"docplat/internal/testhttp"
)

const testSecret = "test-admin-secret-0123456789"

// requireNginx skips without nginx+Lua, except under CI where it fails.
func requireNginx(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and nginx is unusable: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
}

func freeAddr(t *testing.T) string { return testhttp.FreeAddr(t) }

// fakeApp is an app instance: it answers every request with its name in
// X-App and counts what it served.
type fakeApp struct {
	name   string
	srv    *httptest.Server
	served atomic.Int64
}

func newFakeApp(t *testing.T, name string) *fakeApp {
	a := &fakeApp{name: name}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.served.Add(1)
		w.Header().Set("X-App", name)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("from app " + name))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fakeApp) addr() string { return a.srv.Listener.Addr().String() }

type testTier struct {
	base   string // public listener URL
	client *Client
	proc   *Process
	prefix string
}

// startTier renders a prefix in a temp dir, starts nginx on free ports with
// apps as upstreams and stops it (by PID) when the test ends.
func startTier(t *testing.T, cfg Config, apps ...*fakeApp) *testTier {
	t.Helper()
	requireNginx(t)
	cfg.Listen = freeAddr(t)
	if cfg.AdminListen == "" {
		cfg.AdminListen = freeAddr(t)
	}
	cfg.Secret = testSecret
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if os.Geteuid() == 0 {
		// t.TempDir is 0700: workers must be able to read the static files.
		cfg.User = "root"
	}
	cfg.Upstreams = nil
	for _, a := range apps {
		cfg.Upstreams = append(cfg.Upstreams, a.addr())
	}
	prefix := t.TempDir()
	if err := Render(cfg, prefix); err != nil {
		t.Fatal(err)
	}
	p, err := Start(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Stop()
		if t.Failed() {
			b, _ := os.ReadFile(prefix + "/logs/error.log")
			t.Logf("error.log:\n%s", b)
		}
	})
	return &testTier{
		base:   "http://" + cfg.Listen,
		client: &Client{Admin: "http://" + cfg.AdminListen, Secret: testSecret},
		proc:   p,
		prefix: prefix,
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
