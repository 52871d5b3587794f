package internalapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAuthorized(t *testing.T) {
	cases := []struct {
		name, secret, sent string
		set                bool
		want               bool
	}{
		{"right secret", "s3cret", "s3cret", true, true},
		{"wrong secret", "s3cret", "other", true, false},
		{"no header", "s3cret", "", false, false},
		{"empty secret authorizes nothing", "", "", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/internal/x", nil)
			if tc.set {
				r.Header.Set(Header, tc.sent)
			}
			if got := Authorized(r, tc.secret); got != tc.want {
				t.Fatalf("Authorized = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestClientSendsSecretPathAndJSON(t *testing.T) {
	type seen struct {
		Method, Path, Secret, ContentType, Extra string
		Body                                     map[string]string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{Method: r.Method, Path: r.URL.RequestURI(), Secret: r.Header.Get(Header),
			ContentType: r.Header.Get("Content-Type"), Extra: r.Header.Get("X-Extra")}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			_ = json.Unmarshal(b, &s.Body)
		}
		got <- s
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	c := Client{Base: srv.URL + "/", Secret: "s3cret"}

	res, err := c.DoJSON(t.Context(), "POST", "/internal/a?x=1", map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTeapot {
		t.Fatalf("status %d, want the server's 418 passed through", res.StatusCode)
	}
	if s := <-got; s.Method != "POST" || s.Path != "/internal/a?x=1" || s.Secret != "s3cret" ||
		s.ContentType != "application/json" || s.Body["k"] != "v" {
		t.Fatalf("server saw %+v", s)
	}

	res, err = c.Do(t.Context(), "GET", "/internal/b", nil, http.Header{"X-Extra": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if s := <-got; s.Method != "GET" || s.Path != "/internal/b" || s.Secret != "s3cret" || s.Extra != "1" || s.Body != nil {
		t.Fatalf("server saw %+v", s)
	}
}
