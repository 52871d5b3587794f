package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkBurstToHot measures, over 20 bursts on fresh documents, the time
// from the first request of a burst (16 clients in a closed loop) to the
// first response nginx's hot tier answers. It runs once whatever b.N is
// (use -benchtime 1x) and reports p50 and max.
func BenchmarkBurstToHot(b *testing.B) {
	c := startCluster(b)
	var took []time.Duration
	for range 20 {
		d := c.upload("POST", "", randomContent(10<<10), "public")
		start := time.Now()
		bu := c.burst("/api/v1/documents/"+d.ID+"/content", 16)
		for {
			hot := false
			for _, r := range bu.snapshot() {
				if r.tier == "HOT" {
					took = append(took, r.end.Sub(start))
					hot = true
					break
				}
			}
			if hot {
				break
			}
			if time.Since(start) > 30*time.Second {
				bu.stop()
				b.Fatalf("burst %d never served hot", len(took))
			}
			time.Sleep(5 * time.Millisecond)
		}
		bu.stop()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(took[0].Microseconds())/1000, "min-ms")
}

// BenchmarkHotTierVersusStatic runs wrk (-t2 -c64 -d10s) against a hot 10 KB
// document through the cluster's nginx and against the same 10 KB served by
// that nginx as a static file, one after the other in the same run, and
// reports both rates and their ratio.
func BenchmarkHotTierVersusStatic(b *testing.B) {
	if _, err := exec.LookPath("wrk"); err != nil {
		b.Skip("wrk is not installed (scripts/nginx-install.sh)")
	}
	c := startCluster(b)
	content := randomContent(10 << 10)
	d := c.upload("POST", "", content, "public")
	static, err := c.StaticDir()
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(static, "10k.txt"), content, 0o644); err != nil {
		b.Fatal(err)
	}
	hotPath := "/api/v1/documents/" + d.ID + "/content"
	bu := c.burst(hotPath, 8)
	deadline := time.Now().Add(30 * time.Second)
	for c.get(hotPath, nil).tier != "HOT" {
		if time.Now().After(deadline) {
			b.Fatal("never promoted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	bu.stop()
	// wrk's own load keeps it hot while it runs.
	hot := wrk(b, c.url(hotPath))
	if r := c.get(hotPath, nil); r.tier != "HOT" {
		b.Fatalf("the document was not hot at the end of its run: %+v", r)
	}
	stat := wrk(b, c.url("/_bench/static/10k.txt"))
	b.ReportMetric(hot, "hot-req/s")
	b.ReportMetric(stat, "static-req/s")
	b.ReportMetric(hot/stat, "hot/static")
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

func wrk(b *testing.B, url string) float64 {
	out, err := exec.Command("wrk", "-t2", "-c64", "-d10s", url).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk %s: %v\n%s", url, err, out)
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		b.Fatalf("no rate in wrk's output:\n%s", out)
	}
	if regexp.MustCompile(`Non-2xx`).Match(out) {
		b.Fatalf("wrk saw errors on %s:\n%s", url, out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// BenchmarkScheduledHandoutFirstBurst: the lecture's first burst on a
// scheduled handout (pre-warmed, published at the burst's start) against
// the same burst on a handout nobody announced (the detector's path), in
// the same run and at the same moment: two bursts of 16 clients for 2 s,
// one per document. It reports the share of each burst's reads that nginx
// answered and when its first one came. Runs once whatever b.N is.
func BenchmarkScheduledHandoutFirstBurst(b *testing.B) {
	c := startCluster(b)
	var schedShare, detShare []float64
	var detFirst []time.Duration
	for range 3 {
		at := time.Now().Truncate(time.Second).Add(scheduleLead)
		sched := c.scheduled(at)
		plain := c.upload("POST", "", randomContent(10<<10), "public")
		time.Sleep(time.Until(at))
		start := time.Now()
		bs := c.burst("/api/v1/documents/"+sched.ID+"/content", 16)
		bp := c.burst("/api/v1/documents/"+plain.ID+"/content", 16)
		time.Sleep(2 * time.Second)
		rs, rp := bs.stop(), bp.stop()
		s, _ := hotShare(rs, start)
		p, first := hotShare(rp, start)
		schedShare, detShare, detFirst = append(schedShare, s), append(detShare, p), append(detFirst, first)
		b.Logf("scheduled: %d reads, %.1f%% by nginx; detector only: %d reads, %.1f%% by nginx, first after %v",
			len(rs), 100*s, len(rp), 100*p, first.Round(time.Millisecond))
	}
	mean := func(v []float64) float64 {
		sum := 0.0
		for _, x := range v {
			sum += x
		}
		return sum / float64(len(v))
	}
	slices.Sort(detFirst)
	b.ReportMetric(100*mean(schedShare), "scheduled-hot-%")
	b.ReportMetric(100*mean(detShare), "detector-hot-%")
	b.ReportMetric(float64(detFirst[len(detFirst)/2].Microseconds())/1000, "detector-first-hot-p50-ms")
}
