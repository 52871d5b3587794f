// Package internalapi is how docplat's processes call each other's internal
// endpoints (the stats service, the three-phase-commit transport, nginx's
// admin listener): one header carries the shared secret, one client sets it
// and one check verifies it. nginx's admin listener, which may be on another
// machine, takes a signature instead (sign.go), so that the secret never
// travels there. It knows no endpoint and no payload.
package internalapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// Header carries the shared secret on every internal request.
const Header = "X-Docplat-Internal"

// Authorized reports whether r carries secret. An empty secret authorizes
// nothing: an internal endpoint is never open by omission.
func Authorized(r *http.Request, secret string) bool {
	return secret != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get(Header)), []byte(secret)) == 1
}

// Client calls one process's internal endpoints.
type Client struct {
	Base    string        // e.g. "http://127.0.0.1:8090"; a trailing slash is ignored
	Secret  string        // sent in Header
	HTTP    *http.Client  // nil: a client with Timeout
	Timeout time.Duration // for the nil HTTP client; 0 means 5s
	// Signed sends SignatureHeader instead of Header: the secret never
	// leaves the process and a captured request expires with
	// SignatureWindow. The body is read into memory to be signed.
	Signed bool
	// SignedHeaders are the headers a Signed client's signature covers
	// (Request.Names), as the verifier expects them.
	SignedHeaders []string
	Now           func() time.Time // the signature's time; nil: time.Now
}

// Do sends method path with body and the extra header h (may be nil) and
// returns the response, whatever its status; the caller closes its body.
func (c Client) Do(ctx context.Context, method, path string, body io.Reader, h http.Header) (*http.Response, error) {
	var signed []byte
	if c.Signed && body != nil {
		var buf bytes.Buffer
		if l, ok := body.(interface{ Len() int }); ok {
			buf.Grow(l.Len() + bytes.MinRead) // one allocation: ReadFrom wants MinRead spare to see EOF
		}
		if _, err := buf.ReadFrom(body); err != nil {
			return nil, err
		}
		signed = buf.Bytes()
		body = bytes.NewReader(signed)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Base, "/")+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if c.Signed {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		// RequestURI is what goes on the wire, so what the verifier sees.
		req.Header.Set(SignatureHeader, Sign(c.Secret, Request{Method: method, URI: req.URL.RequestURI(),
			Header: req.Header, Names: c.SignedHeaders, Body: signed}, now()))
	} else {
		req.Header.Set(Header, c.Secret)
	}
	hc := c.HTTP
	if hc == nil {
		timeout := c.Timeout
		if timeout <= 0 {
			timeout = 5 * time.Second
		}
		hc = &http.Client{Timeout: timeout}
	}
	return hc.Do(req)
}

// DoJSON is Do with in encoded as the JSON body (nil: no body).
func (c Client) DoJSON(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	return c.Do(ctx, method, path, body, http.Header{"Content-Type": {"application/json"}})
}
