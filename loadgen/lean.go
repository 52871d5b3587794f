package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// leanClient is the generator's own HTTP/1.1 client for plain http://
// URLs, used when Run is given no client. It exists because net/http's
// client costs more CPU per request than nginx spends answering it (two
// goroutines and their hand-offs per connection, a header map, a context
// per request): at 12,000 req/s on 2 cores the generator starved the
// server it was measuring. Each exchange here is one write and, for a
// small answer, one read on a pooled keep-alive connection, with no
// goroutine of its own. It sends exactly the request (no redirects are
// followed: a 3xx is the answer, as it was for Success), reads the whole
// answer (Content-Length, chunked, or until close) and retries once on a
// fresh connection when a reused one turns out to be closed before
// answering an idempotent request, as net/http does.
type leanClient struct {
	ctx     context.Context // Run's: ending it closes every connection
	mu      sync.Mutex
	idle    map[string][]*leanConn // host:port -> idle connections
	maxIdle int
	dialer  net.Dialer
	closed  bool
}

type leanConn struct {
	c    net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	host string
	used bool // has answered a request before (a retry is then safe)
	stop func() bool
}

func newLeanClient(ctx context.Context, maxIdle int) *leanClient {
	return &leanClient{ctx: ctx, idle: map[string][]*leanConn{}, maxIdle: max(maxIdle, 2),
		dialer: net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}}
}

// splitHTTPURL splits "http://host:port/path?q" into "host:port", the Host
// header and "/path?q"; ok is false for anything else (https, userinfo,
// no host), which the caller sends through net/http instead.
func splitHTTPURL(u string) (addr, host, target string, ok bool) {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		return "", "", "", false
	}
	host, target = rest, "/"
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, target = rest[:i], rest[i:]
		if target[0] != '/' {
			target = "/" + target
		}
	}
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	if host == "" || strings.ContainsAny(host, "@ ") {
		return "", "", "", false
	}
	addr = host
	if _, _, err := net.SplitHostPort(host); err != nil {
		addr = host + ":80"
	}
	return addr, host, target, true
}

// do sends req and reads the whole answer, by deadline.
func (lc *leanClient) do(req Request, addr, host, target string, deadline time.Time) (answer, error) {
	for attempt := 0; ; attempt++ {
		c, err := lc.get(addr, attempt > 0)
		if err != nil {
			return answer{}, err
		}
		ans, keep, answered, err := c.exchange(req, host, target, deadline)
		if err == nil {
			if keep {
				lc.put(c)
			} else {
				c.close()
			}
			return ans, nil
		}
		c.close()
		if answered || !c.used || attempt > 0 || !idempotent(req.Method) || lc.ctx.Err() != nil || !time.Now().Before(deadline) {
			return answer{}, err
		}
		// A reused connection the server had closed (keepalive_requests,
		// its idle timeout): once more on a new one.
	}
}

func idempotent(method string) bool {
	switch method {
	case "", "GET", "HEAD", "OPTIONS", "PUT", "DELETE":
		return true
	}
	return false
}

// get returns an idle connection to addr, or dials one (fresh: always).
func (lc *leanClient) get(addr string, fresh bool) (*leanConn, error) {
	if !fresh {
		lc.mu.Lock()
		if l := lc.idle[addr]; len(l) > 0 {
			c := l[len(l)-1]
			lc.idle[addr] = l[:len(l)-1]
			lc.mu.Unlock()
			return c, nil
		}
		lc.mu.Unlock()
	}
	nc, err := lc.dialer.DialContext(lc.ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &leanConn{c: nc, br: bufio.NewReaderSize(nc, 16<<10), bw: bufio.NewWriterSize(nc, 4<<10), host: addr}
	// Ending Run's context ends the exchange in flight at once.
	c.stop = context.AfterFunc(lc.ctx, func() { nc.Close() })
	return c, nil
}

func (lc *leanClient) put(c *leanConn) {
	lc.mu.Lock()
	if !lc.closed && len(lc.idle[c.host]) < lc.maxIdle {
		lc.idle[c.host] = append(lc.idle[c.host], c)
		lc.mu.Unlock()
		return
	}
	lc.mu.Unlock()
	c.close()
}

// closeIdle closes every idle connection; later ones are closed on return.
func (lc *leanClient) closeIdle() {
	lc.mu.Lock()
	lc.closed = true
	idle := lc.idle
	lc.idle = map[string][]*leanConn{}
	lc.mu.Unlock()
	for _, l := range idle {
		for _, c := range l {
			c.close()
		}
	}
}

func (c *leanConn) close() {
	c.stop()
	c.c.Close()
}

var errMalformed = errors.New("loadgen: malformed HTTP response")

// exchange writes req and reads its answer. keep says whether the
// connection may carry another request; answered whether any byte of the
// answer arrived (after which a retry could repeat the request's effect).
func (c *leanConn) exchange(req Request, host, target string, deadline time.Time) (ans answer, keep, answered bool, err error) {
	if err := c.c.SetDeadline(deadline); err != nil {
		return answer{}, false, false, err
	}
	method := req.Method
	if method == "" {
		method = "GET"
	}
	w := c.bw
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(target)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\nUser-Agent: docplat-loadgen\r\n")
	for k, vs := range req.Header {
		for _, v := range vs {
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	if req.Body != nil || method == "POST" || method == "PUT" || method == "PATCH" {
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.Itoa(len(req.Body)))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
	w.Write(req.Body)
	if err := w.Flush(); err != nil {
		return answer{}, false, false, err
	}
	// Nothing at all back (EOF, reset) means the server never took the
	// request: the caller may retry it on a fresh connection.
	if _, err := c.br.Peek(1); err != nil {
		return answer{}, false, false, err
	}
	for {
		ans, keep, err = c.readResponse(method == "HEAD")
		if err != nil {
			return answer{}, false, true, err
		}
		if ans.status >= 200 || ans.status == 101 {
			c.used = true
			return ans, keep, true, nil
		}
		// 1xx: the real answer follows.
	}
}

// readResponse reads one response and discards its body.
func (c *leanConn) readResponse(head bool) (ans answer, keep bool, err error) {
	status, keep, err := c.readResponseInto(head, &ans)
	ans.status = status
	return ans, keep, err
}

// readResponseInto reads one response into ans (its Retry-After) and
// returns the status.
func (c *leanConn) readResponseInto(head bool, ans *answer) (status int, keep bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return 0, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil || status < 100 {
		return 0, false, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	keep = line[7] == '1' // HTTP/1.0 closes unless it says otherwise
	length, chunked := int64(-1), false
	for {
		h, err := c.br.ReadSlice('\n')
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return status, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return status, false, fmt.Errorf("%w: header %q", errMalformed, h)
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(v), 10, 64); err != nil || length < 0 {
				return status, false, fmt.Errorf("%w: Content-Length %q", errMalformed, v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Retry-After")):
			ans.retryAfter, ans.hasRetryAfter = parseRetryAfter(string(v))
		case bytes.EqualFold(k, []byte("Connection")):
			if bytes.EqualFold(v, []byte("close")) {
				keep = false
			} else if bytes.EqualFold(v, []byte("keep-alive")) {
				keep = true
			}
		}
	}
	switch {
	case status < 200 || status == 204 || status == 304 || head:
		return status, keep, nil
	case chunked:
		return status, keep, c.discardChunked()
	case length >= 0:
		_, err := c.br.Discard(int(length))
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return status, keep, err
	}
	// No length: the body runs to the end of the connection.
	_, err = io.Copy(io.Discard, c.br)
	return status, false, err
}

func (c *leanConn) discardChunked() error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return unexpected(err)
		}
		sz, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(sz)), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: chunk size %q", errMalformed, line)
		}
		if n == 0 {
			for { // trailers, then the blank line
				l, err := c.br.ReadSlice('\n')
				if err != nil {
					return unexpected(err)
				}
				if len(bytes.TrimRight(l, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if _, err := c.br.Discard(int(n)); err != nil {
			return unexpected(err)
		}
		if l, err := c.br.ReadSlice('\n'); err != nil || len(bytes.TrimRight(l, "\r\n")) != 0 {
			if err != nil {
				return unexpected(err)
			}
			return fmt.Errorf("%w: no CRLF after a chunk", errMalformed)
		}
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
