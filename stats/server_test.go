package stats_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"docplat/stats"
)

// TestServerAnswersHealthReadinessAndMetricsAndGuardsInternalCalls: the
// stats process answers /healthz, /readyz (503 naming the database once it
// is gone) and /metrics, and refuses its internal API without the secret.
func TestServerAnswersHealthReadinessAndMetricsAndGuardsInternalCalls(t *testing.T) {
	eachBackend(t, func(t *testing.T, svc *stats.Service) {
		s := stats.NewServer(svc, stats.ServerOptions{InternalSecret: "internal-secret-for-tests", TxnTimeout: time.Second,
			Logger: slog.New(slog.DiscardHandler)})
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		get := func(path string) (int, string) {
			t.Helper()
			res, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		for _, path := range []string{"/healthz", "/readyz"} {
			if status, body := get(path); status != http.StatusOK || body != `{"status":"ok"}` {
				t.Fatalf("%s: %d %s", path, status, body)
			}
		}
		if status, body := get("/metrics"); status != http.StatusOK || !strings.Contains(body, "go_goroutines") {
			t.Fatalf("/metrics: %d %.80q", status, body)
		}
		if status, _ := get("/internal/stats/ping"); status != http.StatusUnauthorized {
			t.Fatalf("/internal/stats/ping without the secret: %d, want 401", status)
		}
		_ = svc.Close()
		if status, body := get("/readyz"); status != http.StatusServiceUnavailable || !strings.Contains(body, `"database"`) {
			t.Fatalf("/readyz with the database closed: %d %s", status, body)
		}
	})
}
