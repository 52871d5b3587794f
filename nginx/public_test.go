package nginx

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawRequest sends req as written on a fresh connection and returns the
// parsed answer (for requests net/http refuses to send).
func rawRequest(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer to %.60q: %v", req, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// contractError checks a body is {"error":{"code":code,...}} with a JSON
// content type.
func contractError(t *testing.T, what string, h http.Header, body, code string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("%s: body %q, want the contract's error with code %q", what, body, code)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q, want application/json", what, ct)
	}
}

// TestPublicListenerHidesInternalsAndAnswersJSONErrors: internal routes
// and operations endpoints never reach the apps from the public listener,
// no answer names an upstream, and nginx's own errors carry the contract's
// body and code.
func TestPublicListenerHidesInternalsAndAnswersJSONErrors(t *testing.T) {
	app := newFakeApp(t, "a")
	tier := startTier(t, Config{}, app)
	addr := strings.TrimPrefix(tier.base, "http://")

	for _, path := range []string{"/internal/txn/coordinator/status", "/internal", "/internal/", "//internal/stats/ping",
		"/api/../internal/stats/ping", "/%69nternal/stats/ping", "/metrics", "/readyz", "/_hot/docs", "/_docplat/error/500"} {
		before := app.served.Load()
		resp, body := rawRequest(t, addr, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: %d, want 404", path, resp.StatusCode)
		}
		contractError(t, path, resp.Header, body, "not_found")
		if app.served.Load() != before {
			t.Fatalf("%s reached the app", path)
		}
	}

	a := fetch(t, "GET", tier.base+"/api/v1/documents", nil)
	if a.status != http.StatusOK || a.header.Get("X-App") != "a" {
		t.Fatalf("an API route must still reach the app: %d %v", a.status, a.header)
	}
	if v := a.header.Get("X-Upstream"); v != "" {
		t.Fatalf("X-Upstream %q leaks an internal address", v)
	}
	a = fetch(t, "GET", tier.base+"/api/v1/documents/D1/content", nil)
	if v := a.header.Get("X-Upstream"); v != "" || a.header.Get("X-App") != "a" {
		t.Fatalf("content route: X-Upstream %q, X-App %q", v, a.header.Get("X-App"))
	}

	cases := []struct {
		name, req  string
		status     int
		code       string
		retryAfter bool
	}{
		{"bad request line", "GARBAGE\r\n\r\n", 400, "bad_request", false},
		{"huge URI", "GET /" + strings.Repeat("a", 64<<10) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 414, "bad_request", false},
		{"huge header", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 64<<10) + "\r\nConnection: close\r\n\r\n", 400, "bad_request", false},
	}
	for _, c := range cases {
		resp, body := rawRequest(t, addr, c.req)
		if resp.StatusCode != c.status {
			t.Fatalf("%s: %d, want %d (%q)", c.name, resp.StatusCode, c.status, body)
		}
		contractError(t, c.name, resp.Header, body, c.code)
	}

	app.srv.Close() // the only upstream is down: 502
	resp, body := rawRequest(t, addr, "GET /api/v1/documents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("upstream down: %d, Retry-After %q; want 502 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	contractError(t, "upstream down", resp.Header, body, "unavailable")
	if resp.Header.Get("X-Upstream") != "" {
		t.Fatal("the 502 names an upstream")
	}
}

// TestUpstreamTimeoutIsUnavailable: an app that does not answer in time
// gets the client a 504 with the contract's body and Retry-After.
func TestUpstreamTimeoutIsUnavailable(t *testing.T) {
	release := make(chan struct{})
	slow := &fakeApp{name: "slow"}
	slow.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.srv.Close)
	t.Cleanup(func() { close(release) })
	tier := startTier(t, Config{ReadTimeout: 200 * time.Millisecond}, slow)
	resp, body := rawRequest(t, strings.TrimPrefix(tier.base, "http://"), "GET /api/v1/documents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != http.StatusGatewayTimeout || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("slow upstream: %d, Retry-After %q; want 504 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	contractError(t, "slow upstream", resp.Header, body, "unavailable")
}

// TestErrorPagesRenderTheContractBody: every rendered page is the body
// server/errors.go would write, and valid as an nginx string.
func TestErrorPagesRenderTheContractBody(t *testing.T) {
	for _, p := range errorPages {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal([]byte(p.Body()), &e); err != nil || e.Error.Code != string(p.Code) || !strings.HasSuffix(p.Body(), "}\n") {
			t.Fatalf("%d: body %q", p.Status, p.Body())
		}
		if q := p.Quoted(); strings.Count(q, "'") != 2 || strings.Contains(q, "\n") {
			t.Fatalf("%d: quoted %q", p.Status, q)
		}
	}
}
