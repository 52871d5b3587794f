package loadgen

import (
	"bufio"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSplitHTTPURL(t *testing.T) {
	for _, tc := range []struct {
		in, addr, host, target string
		ok                     bool
	}{
		{"http://127.0.0.1:8080/api/v1/documents?q=a+b", "127.0.0.1:8080", "127.0.0.1:8080", "/api/v1/documents?q=a+b", true},
		{"http://example.test", "example.test:80", "example.test", "/", true},
		{"http://h:1?x=1#frag", "h:1", "h:1", "/?x=1", true},
		{"http://[::1]:9/p#f", "[::1]:9", "[::1]:9", "/p", true},
		{"https://h/p", "", "", "", false},
		{"http://user:pw@h/p", "", "", "", false},
		{"http:///p", "", "", "", false},
	} {
		addr, host, target, ok := splitHTTPURL(tc.in)
		if ok != tc.ok || addr != tc.addr || host != tc.host || target != tc.target {
			t.Errorf("splitHTTPURL(%q) = %q %q %q %v; want %q %q %q %v", tc.in, addr, host, target, ok, tc.addr, tc.host, tc.target, tc.ok)
		}
	}
}

// scripted serves each accepted connection with handle.
func scripted(t *testing.T, handle func(n int, c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(int(n.Add(1)), c)
			}()
		}
	}()
	return l.Addr().String()
}

// readRequest reads one request's head (and no body) off r.
func readRequest(r *bufio.Reader) (string, error) {
	var head strings.Builder
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return head.String(), err
		}
		head.WriteString(l)
		if l == "\r\n" {
			return head.String(), nil
		}
	}
}

func TestLeanClientReadsEveryFraming(t *testing.T) {
	answers := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n",
		"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\n{}",
	}
	var heads []string
	addr := scripted(t, func(_ int, c net.Conn) {
		r := bufio.NewReader(c)
		for _, a := range answers {
			h, err := readRequest(r)
			if err != nil {
				return
			}
			heads = append(heads, h)
			io.WriteString(c, a)
		}
		// Then one that closes: no length, body to EOF.
		if _, err := readRequest(r); err == nil {
			io.WriteString(c, "HTTP/1.0 200 OK\r\n\r\nuntil the end")
		}
	})
	lc := newLeanClient(context.Background(), 4)
	defer lc.closeIdle()
	deadline := time.Now().Add(5 * time.Second)
	for i, want := range []int{200, 201, 200, 304, 503, 200} {
		got, err := lc.do(Request{URL: "http://" + addr + "/x", Header: http.Header{"Authorization": {"Bearer t"}}}, addr, addr, "/x", deadline)
		if err != nil || got.status != want {
			t.Fatalf("answer %d: status %d, err %v; want %d", i, got.status, err, want)
		}
		// The 503 said Retry-After: 1, so it is a clean refusal (ShedClass).
		if shed := got.shed(); shed != (want == 503) || (shed && got.retryAfter != time.Second) {
			t.Fatalf("answer %d: shed %v, Retry-After %v", i, shed, got.retryAfter)
		}
	}
	if len(heads) == 0 || !strings.HasPrefix(heads[0], "GET /x HTTP/1.1\r\nHost: "+addr+"\r\n") || !strings.Contains(heads[0], "Authorization: Bearer t\r\n") {
		t.Fatalf("request head %q", heads)
	}
	// All six went over one connection, and the last one was not kept.
	if n := len(lc.idle[addr]); n != 0 {
		t.Fatalf("%d idle connections after an answer that ran to EOF", n)
	}
}

func TestLeanClientRetriesOnlyAStaleConnection(t *testing.T) {
	// The first connection answers once and closes (like nginx after
	// keepalive_requests); the next request must go through on a new one.
	addr := scripted(t, func(n int, c net.Conn) {
		r := bufio.NewReader(c)
		if _, err := readRequest(r); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
		if n == 1 {
			return // closes without answering the second request
		}
		for {
			if _, err := readRequest(r); err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
		}
	})
	lc := newLeanClient(context.Background(), 4)
	defer lc.closeIdle()
	deadline := time.Now().Add(5 * time.Second)
	for i := range 3 {
		if st, err := lc.do(Request{}, addr, addr, "/", deadline); err != nil || st.status != 200 {
			t.Fatalf("GET %d: %d %v", i, st.status, err)
		}
	}
	// A POST is not retried: the server might have acted on it.
	addr2 := scripted(t, func(n int, c net.Conn) {
		r := bufio.NewReader(c)
		if _, err := readRequest(r); err == nil {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		}
	})
	if st, err := lc.do(Request{Method: "POST", Body: []byte("a")}, addr2, addr2, "/", deadline); err != nil || st.status != 200 {
		t.Fatalf("first POST: %d %v", st.status, err)
	}
	if _, err := lc.do(Request{Method: "POST", Body: []byte("a")}, addr2, addr2, "/", deadline); err == nil {
		t.Fatal("a POST on a connection the server closed was retried (or answered)")
	}
}

func TestLeanClientMalformedAndTimeout(t *testing.T) {
	addr := scripted(t, func(n int, c net.Conn) {
		r := bufio.NewReader(c)
		if _, err := readRequest(r); err != nil {
			return
		}
		if n == 1 {
			io.WriteString(c, "SMTP ready\r\n")
			return
		}
		time.Sleep(2 * time.Second) // never answers in time
	})
	lc := newLeanClient(context.Background(), 4)
	defer lc.closeIdle()
	if _, err := lc.do(Request{}, addr, addr, "/", time.Now().Add(5*time.Second)); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("malformed answer: %v", err)
	}
	_, err := lc.do(Request{}, addr, addr, "/", time.Now().Add(100*time.Millisecond))
	if classify(err) != "timeout" {
		t.Fatalf("slow answer: %v classified %q", err, classify(err))
	}
}

// TestRunWithoutClientUsesTheLeanClient checks Run end to end against
// net/http's server, bodies and statuses included, closed and open loop.
func TestRunWithoutClientUsesTheLeanClient(t *testing.T) {
	var posted atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "docplat-loadgen" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			posted.Add(int64(len(b)))
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.Write([]byte(strings.Repeat("x", 10<<10)))
	}))
	defer srv.Close()
	for _, mode := range []string{Closed, Open} {
		var n atomic.Int64
		res, err := Run(context.Background(), nil, Func(func(*rand.Rand) Request {
			if n.Add(1)%2 == 0 {
				return Request{Method: http.MethodPost, URL: srv.URL + "/p", Body: []byte("abc"), Name: "post"}
			}
			return Request{URL: srv.URL + "/g", Name: "get"}
		}), Config{Mode: mode, Users: 4, Rate: 400, Duration: 300 * time.Millisecond})
		if err != nil || res.Successes == 0 || res.Failures != 0 || res.ByName["post"] == nil || res.ByName["get"] == nil {
			t.Fatalf("%s: %+v %v", mode, res, err)
		}
	}
	if posted.Load() == 0 {
		t.Fatal("no POST body reached the server")
	}
}
