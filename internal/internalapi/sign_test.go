package internalapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSignatureCoversEveryPart: changing the secret, method, URI, time,
// nonce or body changes the signature. That nginx computes the same MAC is
// shown against the real nginx (nginx/signed_test.go).
func TestSignatureCoversEveryPart(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	req := func(mutate func(*Request)) Request {
		r := Request{Method: "PUT", URI: "/_hot/docs/a?rev=1", Body: []byte("body"),
			Header: http.Header{"X-Doc-Rev": {"1"}, "X-Other": {"x"}}, Names: []string{"X-Doc-Rev", "X-Doc-Id"}}
		if mutate != nil {
			mutate(&r)
		}
		return r
	}
	const secret, nonce = "secret-0123456789", "0011223344556677"
	base := Signature(secret, req(nil), at, nonce)
	if !strings.HasPrefix(base, "v1.1800000000.0011223344556677.") || len(base) != len("v1.1800000000.0011223344556677.")+40 {
		t.Fatalf("Signature = %q, want v1.<unix>.<nonce>.<40 hex>", base)
	}
	for name, sig := range map[string]string{
		"secret":        Signature(secret+"x", req(nil), at, nonce),
		"method":        Signature(secret, req(func(r *Request) { r.Method = "DELETE" }), at, nonce),
		"uri":           Signature(secret, req(func(r *Request) { r.URI = "/_hot/docs/a?rev=2" }), at, nonce),
		"time":          Signature(secret, req(nil), at.Add(time.Second), nonce),
		"nonce":         Signature(secret, req(nil), at, "0011223344556678"),
		"body":          Signature(secret, req(func(r *Request) { r.Body = []byte("bodY") }), at, nonce),
		"signed header": Signature(secret, req(func(r *Request) { r.Header.Set("X-Doc-Rev", "2") }), at, nonce),
		"absent header": Signature(secret, req(func(r *Request) { r.Header.Set("X-Doc-Id", "a") }), at, nonce),
	} {
		if sig[len(sig)-40:] == base[len(base)-40:] {
			t.Errorf("another %s, same MAC", name)
		}
	}
	if Signature(secret, req(func(r *Request) { r.Header.Set("X-Other", "y") }), at, nonce) != base {
		t.Error("a header not in Names changed the signature")
	}
	if a, b := Sign("s", Request{Method: "GET", URI: "/"}, at), Sign("s", Request{Method: "GET", URI: "/"}, at); a == b {
		t.Fatal("two Signs in one second share a nonce: the second would be refused as a replay")
	}
}

// TestSignedClientNeverSendsTheSecret: a Signed client sends the
// signature of what goes on the wire (method, URI with query, body) and
// no Header.
func TestSignedClientNeverSendsTheSecret(t *testing.T) {
	type seen struct{ method, uri, bearer, sig, body string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.RequestURI, r.Header.Get(Header), r.Header.Get(SignatureHeader), string(b)}
	}))
	defer srv.Close()
	at := time.Unix(1_800_000_000, 0)
	c := Client{Base: srv.URL, Secret: "secret-0123456789", Signed: true, SignedHeaders: []string{"X-Doc-Rev"}, Now: func() time.Time { return at }}
	h := http.Header{"X-Doc-Rev": {"3"}}
	res, err := c.Do(t.Context(), "PUT", "/_hot/docs/a?rev=3", strings.NewReader("payload"), h)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	s := <-got
	if s.bearer != "" || s.body != "payload" {
		t.Fatalf("server saw %+v: want no %s and the body intact", s, Header)
	}
	parts := strings.Split(s.sig, ".")
	if len(parts) != 4 || Signature(c.Secret, Request{Method: "PUT", URI: "/_hot/docs/a?rev=3", Header: h, Names: c.SignedHeaders, Body: []byte("payload")}, at, parts[2]) != s.sig {
		t.Fatalf("%s = %q, not the signature of the request sent", SignatureHeader, s.sig)
	}
}
