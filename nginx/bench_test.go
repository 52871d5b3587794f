package nginx

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestWrkHotVersusStatic measures (never asserts) the hot tier against
// nginx serving the same 10 KB as a static file, in one run:
//
//	DOCPLAT_WRK=1 go test -run TestWrkHotVersusStatic -v ./nginx/
//
// It runs `wrk -t2 -c64 -d10s` on each URL and logs both req/s and the ratio.
func TestWrkHotVersusStatic(t *testing.T) {
	if os.Getenv("DOCPLAT_WRK") == "" {
		t.Skip("a measurement, not a test: set DOCPLAT_WRK=1 (needs wrk: scripts/nginx-install.sh)")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk not installed (scripts/nginx-install.sh)")
	}
	body := bytes.Repeat([]byte("0123456789"), 1024) // 10 KB
	app := &contentApp{name: "a", body: body, etag: `"bench"`, ctype: "application/octet-stream", filename: "b.bin"}
	tier := startContentTier(t, app, Config{Workers: 2})
	if err := tier.client.Push(context.Background(), app.entry("BENCH", 1, "public")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tier.prefix, "static", "10k.bin"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	rate := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	run := func(url string) float64 {
		out, err := exec.Command("wrk", "-t2", "-c64", "-d10s", url).CombinedOutput()
		if err != nil {
			t.Fatalf("wrk: %v\n%s", err, out)
		}
		t.Logf("wrk -t2 -c64 -d10s %s\n%s", url, out)
		m := rate.FindSubmatch(out)
		if m == nil {
			t.Fatalf("no Requests/sec in wrk output")
		}
		f, _ := strconv.ParseFloat(string(m[1]), 64)
		return f
	}
	hot := run(tier.base + "/api/v1/documents/BENCH/content")
	static := run(tier.base + "/_bench/static/10k.bin")
	t.Logf("hot %.0f req/s, static %.0f req/s, hot/static = %.2f", hot, static, hot/static)
}
