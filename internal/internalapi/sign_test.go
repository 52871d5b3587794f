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
	base := Signature("secret-0123456789", "PUT", "/_hot/docs/a?rev=1", []byte("body"), at, "0011223344556677")
	if !strings.HasPrefix(base, "v1.1800000000.0011223344556677.") || len(base) != len("v1.1800000000.0011223344556677.")+40 {
		t.Fatalf("Signature = %q, want v1.<unix>.<nonce>.<40 hex>", base)
	}
	for name, sig := range map[string]string{
		"secret": Signature("secret-0123456789x", "PUT", "/_hot/docs/a?rev=1", []byte("body"), at, "0011223344556677"),
		"method": Signature("secret-0123456789", "DELETE", "/_hot/docs/a?rev=1", []byte("body"), at, "0011223344556677"),
		"uri":    Signature("secret-0123456789", "PUT", "/_hot/docs/a?rev=2", []byte("body"), at, "0011223344556677"),
		"time":   Signature("secret-0123456789", "PUT", "/_hot/docs/a?rev=1", []byte("body"), at.Add(time.Second), "0011223344556677"),
		"nonce":  Signature("secret-0123456789", "PUT", "/_hot/docs/a?rev=1", []byte("body"), at, "0011223344556678"),
		"body":   Signature("secret-0123456789", "PUT", "/_hot/docs/a?rev=1", []byte("bodY"), at, "0011223344556677"),
	} {
		if sig[len(sig)-40:] == base[len(base)-40:] {
			t.Errorf("another %s, same MAC", name)
		}
	}
	if a, b := Sign("s", "GET", "/", nil, at), Sign("s", "GET", "/", nil, at); a == b {
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
	c := Client{Base: srv.URL, Secret: "secret-0123456789", Signed: true, Now: func() time.Time { return at }}
	res, err := c.Do(t.Context(), "PUT", "/_hot/docs/a?rev=3", strings.NewReader("payload"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	s := <-got
	if s.bearer != "" || s.body != "payload" {
		t.Fatalf("server saw %+v: want no %s and the body intact", s, Header)
	}
	parts := strings.Split(s.sig, ".")
	if len(parts) != 4 || Signature(c.Secret, "PUT", "/_hot/docs/a?rev=3", []byte("payload"), at, parts[2]) != s.sig {
		t.Fatalf("%s = %q, not the signature of the request sent", SignatureHeader, s.sig)
	}
}
