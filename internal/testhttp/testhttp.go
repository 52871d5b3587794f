// Package testhttp holds the HTTP helpers tests of several packages share:
// a loopback address to listen on and one request sent as a client sends
// it, without following redirects or pooling surprises.
package testhttp

import (
	"io"
	"net"
	"net/http"
	"testing"
)

// FreeAddr is a loopback ip:port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Answer is one response as the client saw it.
type Answer struct {
	Status int
	Header http.Header
	Body   string
}

// Fetch sends one request with the given headers and reads the whole answer.
func Fetch(t testing.TB, method, url string, hdr map[string]string) Answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Answer{resp.StatusCode, resp.Header, string(b)}
}
