package scenario

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestSeedingHonoursRetryAfter: an upload refused with 503 + Retry-After
// is sent again after the delay with the same Idempotency-Key; a 503
// without Retry-After is an error at once.
func TestSeedingHonoursRetryAfter(t *testing.T) {
	var (
		mu   sync.Mutex
		keys []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		n := len(keys)
		mu.Unlock()
		switch {
		case r.URL.Query().Get("plain") != "":
			w.WriteHeader(http.StatusServiceUnavailable)
		case n == 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"id":"d1","visibility":"public"}`))
		}
	}))
	defer srv.Close()
	api := &API{Base: srv.URL, Token: "t", Client: srv.Client()}
	id, err := api.Upload(context.Background(), SeedFile{Name: "a.txt", Title: "a", Content: []byte("a")})
	if err != nil || id != "d1" {
		t.Fatalf("upload after a shed answer: %q %v", id, err)
	}
	if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] {
		t.Fatalf("Idempotency-Key per attempt: %q", keys)
	}
	api.Base = srv.URL + "/x?plain=1&"
	err = api.do(context.Background(), "list", http.MethodGet, "", nil, nil, true, http.StatusOK, nil)
	if err == nil || len(keys) != 3 {
		t.Fatalf("503 without Retry-After: %v after %d calls", err, len(keys))
	}
}
