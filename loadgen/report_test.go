package loadgen

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestFailureClassification drives five kinds of requests round-robin over
// HTTP; the counts by class are exact.
func TestFailureClassification(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"code":"unavailable","message":"down"}}`, http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux) // /missing answers 404
	t.Cleanup(srv.Close)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/"
	l.Close()

	kinds := []Request{
		{Method: "GET", URL: srv.URL + "/ok", Name: "ok"},
		{Method: "POST", URL: srv.URL + "/fail", Name: "fail", Body: []byte(`{}`), Header: http.Header{"Content-Type": {"application/json"}}},
		{Method: "GET", URL: closed, Name: "refused"},
		{Method: "GET", URL: srv.URL + "/slow", Name: "slow"},
		{Method: "GET", URL: srv.URL + "/missing", Name: "notfound"},
	}
	i := 0
	src := Func(func(*rand.Rand) Request { r := kinds[i%len(kinds)]; i++; return r })
	res, err := Run(context.Background(), nil, src, Config{
		Rate: 500, Duration: 500 * time.Millisecond, Timeout: 200 * time.Millisecond,
		Success: func(s int) bool { return s < 400 || s == http.StatusNotFound },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"status 503": 50, "connection refused": 50, "timeout": 50}
	if res.Total != 250 || res.Successes != 100 || res.Failures != 150 || !reflect.DeepEqual(res.FailuresBy, want) {
		t.Fatalf("total %d successes %d failures %d by %v; want 250/100/150 %v",
			res.Total, res.Successes, res.Failures, res.FailuresBy, want)
	}
	for name, class := range map[string]string{"ok": "", "notfound": "", "fail": "status 503", "refused": "connection refused", "slow": "timeout"} {
		s := res.ByName[name]
		if s == nil || s.Total != 50 {
			t.Fatalf("%s: %+v", name, s)
		}
		if class == "" && (s.Successes != 50 || len(s.FailuresBy) != 0) || class != "" && s.FailuresBy[class] != 50 {
			t.Errorf("%s: %+v", name, s)
		}
	}
	if slow := res.ByName["slow"]; slow.Mean.Duration() < 190*time.Millisecond {
		t.Errorf("timeouts measured %v, want ~200ms", slow.Mean)
	}
	tab := res.Table()
	for _, s := range []string{"status 503", "connection refused", "timeout", "refused", "20.00%"} {
		if !strings.Contains(tab, s) {
			t.Errorf("table lacks %q:\n%s", s, tab)
		}
	}
	t.Logf("\n%s", tab)
}

func sampleResult() *Result {
	rec := newRecorder(nil)
	for i := 1; i <= 100; i++ {
		rec.record("read-content", time.Duration(i)*time.Millisecond, 200, nil, 0)
	}
	for i := 0; i < 10; i++ {
		rec.record("upload", 2*time.Millisecond, 503, nil, 0)
	}
	res := rec.result(2 * time.Second)
	res.Mode = Open
	res.Rate = 55
	res.Duration = Millis(2 * time.Second)
	res.MaxSendLag = Millis(1234567)
	return res
}

func TestTableFormat(t *testing.T) {
	res := sampleResult()
	tab := res.Table()
	t.Logf("\n%s", tab)
	lines := strings.Split(tab, "\n")
	if !strings.HasPrefix(lines[0], "mode open, rate 55 req/s, warmup 0s, duration 2s, elapsed 2s, max send lag 1.235 ms") {
		t.Errorf("summary line %q", lines[0])
	}
	// Main table: header, all, read-content, upload; same width (right-aligned).
	table := lines[2:6]
	for _, h := range tableColumns {
		if !strings.Contains(table[0], h) {
			t.Errorf("header lacks %q: %q", h, table[0])
		}
	}
	for _, l := range table[1:] {
		if len(l) != len(table[0]) {
			t.Errorf("misaligned row %q (len %d, header %d)", l, len(l), len(table[0]))
		}
	}
	wantRows := map[string][]string{
		"all":          {"110", "100", "10", "55.00", "50.00", "5.00", "46.091"},
		"read-content": {"100", "100", "0", "50.00", "0.00", "50.500", "95.500", "100.000"},
		"upload":       {"10", "0", "10", "5.00", "2.000"},
	}
	for i, name := range []string{"all", "read-content", "upload"} {
		f := strings.Fields(table[i+1])
		if f[0] != name {
			t.Errorf("row %d is %q, want %s", i, f[0], name)
		}
		for _, w := range wantRows[name] {
			if !strings.Contains(" "+strings.Join(f[1:], " ")+" ", " "+w+" ") {
				t.Errorf("row %s lacks %s: %q", name, w, table[i+1])
			}
		}
	}
	if !strings.Contains(tab, "failures\n") || !strings.Contains(tab, "status 503") {
		t.Errorf("no failures section:\n%s", tab)
	}
	var upload string
	for _, l := range lines {
		if strings.Contains(l, "upload") && strings.Contains(l, "status 503") {
			upload = l
		}
	}
	if f := strings.Fields(upload); len(f) != 5 || f[3] != "10" || f[4] != "100.00%" {
		t.Errorf("upload failure row %q", upload)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	res := sampleResult()
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{
		"mode", "rate", "warmup_ms", "duration_ms", "elapsed_ms", "max_send_lag_ms",
		"total", "successes", "failures", "failures_by",
		"requests_per_sec", "successes_per_sec", "failures_per_sec",
		"mean_ms", "mean_slowest10_ms", "mean_slowest10_exact",
		"p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "by_name",
	} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q:\n%s", k, b)
		}
	}
	rc := m["by_name"].(map[string]any)["read-content"].(map[string]any)
	if rc["mean_ms"] != 50.5 || rc["mean_slowest10_ms"] != 95.5 || rc["max_ms"] != 100.0 || rc["total"] != 100.0 {
		t.Errorf("read-content JSON %v", rc)
	}
	if m["max_send_lag_ms"] != 1.234567 || m["failures_by"].(map[string]any)["status 503"] != 10.0 {
		t.Errorf("JSON values: %s", b)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, res) {
		t.Errorf("round trip differs:\n%+v\n%+v", back, *res)
	}
}

func TestMillis(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 999, 1234567, 95500 * time.Microsecond, 59 * time.Second} {
		b, err := json.Marshal(Millis(d))
		if err != nil {
			t.Fatal(err)
		}
		var m Millis
		if err := json.Unmarshal(b, &m); err != nil || m.Duration() != d {
			t.Errorf("%v -> %s -> %v (%v)", d, b, m.Duration(), err)
		}
	}
	if b, _ := json.Marshal(Millis(1500 * time.Microsecond)); string(b) != "1.5" {
		t.Errorf("1.5ms marshals as %s", b)
	}
}
