package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"docplat/internal/wait"
)

const adminPassword = "admin-password-1"

// embeddedServer runs `docplat serve` in embedded mode (nothing to install)
// on a free loopback port, built from ../docplat: the tools reach it over
// HTTP, as they reach any deployment. It returns the server's base URL.
func embeddedServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "docplat")
	if out, err := exec.Command("go", "build", "-o", bin, "../docplat").CombinedOutput(); err != nil {
		t.Fatalf("go build ../docplat: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", filepath.Join(dir, "data"))
	// The developer's DOCPLAT_* (a MariaDB DSN, say) must not turn embedded
	// mode into something else.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCPLAT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "DOCPLAT_ADMIN_PASSWORD="+adminPassword, "DOCPLAT_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	url := "http://" + addr
	wait.For(t, 60*time.Second, "docplat serve to be ready", func() bool {
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("docplat serve exited:\n%s", b)
		default:
		}
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return url
}
