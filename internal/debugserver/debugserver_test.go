package debugserver

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestDebugListenerServesOnlyTheProfiler: the --debug-addr listener answers
// the pprof index and a heap profile, and nothing else (no API route ever
// reaches it), and stops when told to.
func TestDebugListenerServesOnlyTheProfiler(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stop, err := Start(addr, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if status, body := get("/debug/pprof/"); status != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("/debug/pprof/: %d %.80q", status, body)
	}
	if status, _ := get("/debug/pprof/heap?debug=1"); status != http.StatusOK {
		t.Fatalf("/debug/pprof/heap: %d", status)
	}
	for _, path := range []string{"/", "/api/v1/documents", "/metrics"} {
		if status, _ := get(path); status != http.StatusNotFound {
			t.Fatalf("%s on the profiler listener: %d, want 404", path, status)
		}
	}
	stop()
	if _, err := http.Get("http://" + addr + "/debug/pprof/"); err == nil {
		t.Fatal("the profiler still answers after stop")
	}
}
