package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestShedAnswersAreCountedApartAndHonoured: a 503 with Retry-After is
// ShedClass (counted in Failures and in Shed), a 503 without it stays
// "status 503"; a closed-loop user waits the advised second before its
// next request, unless told to ignore it.
func TestShedAnswersAreCountedApartAndHonoured(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/shed") {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	run := func(path string, ignore bool) *Result {
		res, err := Run(context.Background(), nil, get(srv.URL+path, "x"),
			Config{Mode: Closed, Users: 2, Duration: 1500 * time.Millisecond, IgnoreRetryAfter: ignore})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	honoured := run("/shed", false)
	// Each user sends at t=0 and t=1s, then waits past the end: 4 at most.
	if honoured.Total < 2 || honoured.Total > 4 || honoured.Shed != honoured.Total ||
		honoured.FailuresBy[ShedClass] != honoured.Total || honoured.Failures != honoured.Total || honoured.ByName["x"].Shed != honoured.Total {
		t.Fatalf("honouring Retry-After: total %d shed %d failures %v", honoured.Total, honoured.Shed, honoured.FailuresBy)
	}
	ignored := run("/shed", true)
	if ignored.Total < 20 || ignored.Shed != ignored.Total {
		t.Fatalf("ignoring Retry-After: total %d shed %d", ignored.Total, ignored.Shed)
	}
	plain := run("/plain", false)
	if plain.Total < 20 || plain.Shed != 0 || plain.FailuresBy["status 503"] != plain.Total {
		t.Fatalf("503 without Retry-After: total %d shed %d failures %v", plain.Total, plain.Shed, plain.FailuresBy)
	}
	if tab := honoured.Table(); !strings.Contains(tab, "shed") || !strings.Contains(tab, ShedClass) {
		t.Fatalf("table does not show shed requests:\n%s", tab)
	}
}
