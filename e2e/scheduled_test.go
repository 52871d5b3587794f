package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// scheduleLead is how far ahead of now the tests schedule a handout: the
// pre-warmer reads the schedule every 5 s and the promoter pushes within a
// round after it, so 12 s leaves room on a loaded machine.
const scheduleLead = 12 * time.Second

// scheduled uploads a public handout to be published at (a whole second)
// and returns it.
func (c *cluster) scheduled(at time.Time) document {
	c.t.Helper()
	return c.uploadFields("POST", "", randomContent(10<<10), "public", map[string]string{"publish_at": at.UTC().Format(time.RFC3339)})
}

// TestScheduledHandoutIsHotOnTheFirstRequestAfterPublication: a handout
// scheduled for publication is pre-warmed into nginx's hot tier (and every
// instance's L1) before it: until the second of publication students get
// the app's 404, and the very first request after it is answered by nginx
// (X-Cache: HOT), as is the whole burst that follows.
func TestScheduledHandoutIsHotOnTheFirstRequestAfterPublication(t *testing.T) {
	c := startCluster(t)
	at := time.Now().Truncate(time.Second).Add(scheduleLead)
	d := c.scheduled(at)
	path := "/api/v1/documents/" + d.ID + "/content"
	// Pre-warmed before publication: in the hot set while still hidden.
	warmed := false
	for time.Now().Before(at.Add(-time.Second)) {
		if r := c.get(path, nil); r.status != http.StatusNotFound || r.tier == "HOT" {
			t.Fatalf("before publication: %d from %s, want 404 from the app", r.status, r.tier)
		}
		if contains(c.hot(), d.ID) {
			warmed = true
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !warmed {
		t.Fatalf("not in the hot set a second before its publication")
	}
	time.Sleep(time.Until(at))
	first := c.get(path, nil)
	if first.status != http.StatusOK || first.tier != "HOT" {
		t.Fatalf("first request %v after publication: %d from %s, want 200 HOT", first.start.Sub(at), first.status, first.tier)
	}
	b := c.burst(path, 16)
	time.Sleep(time.Second)
	reads := b.stop()
	miss := 0
	for _, r := range reads {
		if r.err != nil || r.status != http.StatusOK || r.tier != "HOT" {
			miss++
		}
	}
	t.Logf("first request %v after publication: HOT; then %d reads, %d not from nginx", first.start.Sub(at).Round(time.Millisecond), len(reads), miss)
	if miss > 0 {
		t.Errorf("%d of %d burst reads after publication were not answered by nginx", miss, len(reads))
	}
}

// hotShare is the share of reads nginx answered, and how long after start
// its first answer came (-1: never).
func hotShare(reads []read, start time.Time) (float64, time.Duration) {
	hot, first := 0, time.Duration(-1)
	slices.SortFunc(reads, func(a, b read) int { return a.start.Compare(b.start) })
	for _, r := range reads {
		if r.err == nil && r.status == http.StatusOK && r.tier == "HOT" {
			if hot == 0 {
				first = r.end.Sub(start)
			}
			hot++
		}
	}
	if len(reads) == 0 {
		return 0, first
	}
	return float64(hot) / float64(len(reads)), first
}
