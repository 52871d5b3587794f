// Package testminio runs a real MinIO server for integration tests and
// benchmarks, through the repo's scripts/minio.sh: erasure-coded over four
// directories, on a free loopback port, stopped by PID.
//
// The binary is built once by `scripts/minio.sh build` (scripts/test-deps.sh
// does it) and cached; when it is missing, tests fail under CI=true and skip
// otherwise, since a build takes minutes.
package testminio

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Credentials every server started here uses.
const (
	AccessKey = "docplat"
	SecretKey = "docplat-secret-key"
)

// Server is one MinIO process and its data directories.
type Server struct {
	dir    string // data (d1..d4), log and PID file
	port   int
	script string // scripts/minio.sh
}

// Endpoint is the server's host:port (plain HTTP).
func (s *Server) Endpoint() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Dir is the server's data directory.
func (s *Server) Dir() string { return s.dir }

// Start starts a server in a temp dir of t and stops it when t ends. It
// fails the test under CI=true, and skips it otherwise, when MinIO is not
// built.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := Launch(t.TempDir())
	if errors.Is(err, ErrNotBuilt) && os.Getenv("CI") == "" {
		t.Skipf("testminio: %v", err)
	}
	if err != nil {
		t.Fatalf("testminio: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ErrNotBuilt means the cached MinIO binary is missing.
var ErrNotBuilt = errors.New("MinIO is not built (run scripts/minio.sh build, ~6 minutes once)")

// Launch starts a server with its data in dir on a free port; for TestMain
// and benchmarks, which call Close themselves.
func Launch(dir string) (*Server, error) {
	script, err := findScript()
	if err != nil {
		return nil, err
	}
	if out, err := exec.Command(script, "path").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotBuilt, strings.TrimSpace(string(out)))
	}
	s := &Server{dir: dir, script: script}
	var failures []string
	// A port found free may be taken before MinIO binds it: retry.
	for attempt := 1; attempt <= 4; attempt++ {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		if err = s.Start(); err == nil {
			return s, nil
		}
		failures = append(failures, fmt.Sprintf("attempt %d: %v", attempt, err))
	}
	return nil, fmt.Errorf("MinIO did not start:\n%s", strings.Join(failures, "\n"))
}

// Start (re)starts the server on its directory and port, as after Kill.
func (s *Server) Start() error { return s.run("up", s.dir, strconv.Itoa(s.port)) }

// Kill kills the server at once with SIGKILL, as a crash would.
func (s *Server) Kill() error { return s.run("kill", s.dir) }

// Close stops the server (TERM, then KILL after 10 s).
func (s *Server) Close() error { return s.run("down", s.dir) }

func (s *Server) run(args ...string) error {
	cmd := exec.Command(s.script, args...)
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+AccessKey, "MINIO_ROOT_PASSWORD="+SecretKey)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("scripts/minio.sh %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// findScript looks for scripts/minio.sh in the working directory and its
// parents (a test runs in its package's directory).
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "minio.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("scripts/minio.sh not found above the working directory")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
