package nginx

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"docplat/internal/envflag"
	"docplat/internal/wait"
)

// parseProcess is the hot tier's flags parsed from args.
func parseProcess(t *testing.T, args ...string) *ProcessConfig {
	t.Helper()
	var c ProcessConfig
	b := envflag.New("nginx", "DOCPLAT_", func(string) (string, bool) { return "", false })
	c.Bind(b)
	if err := b.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestProcessConfigNamesTheFlagOfEveryProblem: each bad setting is
// reported with the flag that sets it.
func TestProcessConfigNamesTheFlagOfEveryProblem(t *testing.T) {
	requireNginx(t) // Validate reports a missing nginx too
	complete := []string{"--prefix", t.TempDir(), "--upstreams", "127.0.0.1:9000", "--internal-secret", testSecret, "--read-token-secret", testSecret}
	if err := parseProcess(t, complete...).Validate(); err != nil {
		t.Fatalf("complete settings: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--prefix", ""}, "prefix is required"},
		{[]string{"--worker-connections", "10"}, "worker-connections must be 64..1048576, got 10"},
		{[]string{"--read-token-secret", "short"}, "internal-secret and read-token-secret (16+ characters each) are required"},
		{[]string{"--internal-secret", ""}, "internal-secret and read-token-secret (16+ characters each) are required"},
		{[]string{"--upstreams", "app:80"}, `upstream "app:80" must be ip:port`},
		{[]string{"--admin-listen", "0.0.0.0:8081"}, `AdminListen "0.0.0.0:8081" must be <ip>:<port> of one interface`},
	} {
		err := parseProcess(t, append(append([]string{}, complete...), tc.args...)...).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestRunProcessServesUntilItsContextEnds: nginx renders into the prefix,
// proxies to its upstream, and is stopped when ctx ends.
func TestRunProcessServesUntilItsContextEnds(t *testing.T) {
	requireNginx(t)
	app := newFakeApp(t, "a")
	listen, prefix := freeAddr(t), t.TempDir()
	c := parseProcess(t, "--prefix", prefix, "--listen", listen, "--admin-listen", freeAddr(t), "--workers", "1",
		"--upstreams", app.addr(), "--internal-secret", testSecret, "--read-token-secret", testSecret)
	if os.Geteuid() == 0 {
		c.Config.User = "root" // t.TempDir is 0700: workers must read the static files
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunProcess(ctx, *c, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	wait.For(t, wait.Limit, "nginx to proxy to its upstream", func() bool {
		resp, err := http.Get("http://" + listen + "/api/v1/documents")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.Header.Get("X-App") == "a"
	})
	if _, err := os.Stat(prefix + "/conf/nginx.conf"); err != nil {
		t.Fatalf("no configuration in the prefix: %v", err)
	}
	stop()
	wait.Returned(t, done, "RunProcess")
	if _, err := http.Get("http://" + listen + "/api/v1/documents"); err == nil {
		t.Fatal("nginx still answers after RunProcess returned")
	}
}

// TestRunProcessStoppedWhileStartingIsNoError: ending ctx is how RunProcess
// is stopped, also before nginx has written its pid file. Under load a
// caller could see nginx answer and stop it before Start had noticed the
// pid file, and RunProcess returned "context canceled".
func TestRunProcessStoppedWhileStartingIsNoError(t *testing.T) {
	requireNginx(t)
	app := newFakeApp(t, "a")
	listen, prefix := freeAddr(t), t.TempDir()
	c := parseProcess(t, "--prefix", prefix, "--listen", listen, "--admin-listen", freeAddr(t), "--workers", "1",
		"--upstreams", app.addr(), "--internal-secret", testSecret, "--read-token-secret", testSecret)
	if os.Geteuid() == 0 {
		c.Config.User = "root"
	}
	ctx, stop := context.WithCancel(context.Background())
	stop() // ended before nginx can have written its pid file
	if err := RunProcess(ctx, *c, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("RunProcess stopped while starting: %v, want nil", err)
	}
	if _, err := http.Get("http://" + listen + "/api/v1/documents"); err == nil {
		t.Fatal("nginx still answers after RunProcess returned")
	}
}
