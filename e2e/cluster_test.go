package e2e

import (
	"crypto/rand"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"docplat/internal/wait"
	"docplat/readtoken"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

func randomContent(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return b
}

// promotionBound is how long a burst may take to be served by nginx: the
// detector's window plus the promoter's round and a loaded CI machine.
const promotionBound = 5 * time.Second

// TestBurstIsPromotedServedByNginxCoherentAndDemoted: a burst on one
// document -> promoted within the bound -> following reads answered by
// nginx -> updates during the burst: no read that starts after an update
// was acknowledged gets the old bytes, from nginx or any instance's L1 ->
// the burst stops -> demoted, nginx no longer holds it.
func TestBurstIsPromotedServedByNginxCoherentAndDemoted(t *testing.T) {
	c := startCluster(t)
	d := c.upload("POST", "", randomContent(10<<10), "public")
	path := "/api/v1/documents/" + d.ID + "/content"
	start := time.Now()
	b := c.burst(path, 16)
	defer b.stop()
	took := wait.For(t, promotionBound, "first read answered by nginx's hot tier", func() bool {
		for _, r := range b.snapshot() {
			if r.tier == "HOT" {
				return true
			}
		}
		return false
	})
	t.Logf("burst start -> first HOT response: %v", took.Round(time.Millisecond))
	if !contains(c.hot(), d.ID) {
		t.Fatalf("%s is served hot but not in /stats/hot", d.ID)
	}

	// Updates while the burst goes on.
	type ack struct {
		at   time.Time
		etag string
	}
	var acks []ack
	for i := range 3 {
		time.Sleep(700 * time.Millisecond) // let it be re-promoted between updates
		nd := c.upload("PUT", d.ID, randomContent(10<<10+i), "")
		acks = append(acks, ack{at: time.Now(), etag: `"` + nd.SHA256 + `"`})
	}
	time.Sleep(time.Second)
	reads := b.stop()
	// Every read that started after update k was acknowledged must carry
	// update k's ETag or a later one.
	valid := map[string]int{`"` + d.SHA256 + `"`: -1}
	for k, a := range acks {
		valid[a.etag] = k
	}
	hotAfter, stale, failed := 0, 0, 0
	for _, r := range reads {
		if r.err != nil || r.status != http.StatusOK {
			failed++
			continue
		}
		newest := -1
		for k, a := range acks {
			if r.start.After(a.at) {
				newest = k
			}
		}
		if got, ok := valid[r.etag]; !ok || got < newest {
			stale++
			if stale < 5 {
				t.Errorf("read started %v after update %d was acknowledged returned %s from %s", r.start.Sub(acks[newest].at), newest, r.etag, r.tier)
			}
		}
		if r.tier == "HOT" && r.start.After(acks[len(acks)-1].at) {
			hotAfter++
		}
	}
	t.Logf("%d reads during the burst, %d failed, %d stale, %d answered HOT after the last update", len(reads), failed, stale, hotAfter)
	if failed > 0 {
		t.Errorf("%d reads failed", failed)
	}
	if hotAfter == 0 {
		t.Errorf("the updated document was not served from nginx again")
	}

	// The burst has stopped: demoted within the dwell time plus a window and a round.
	demoted := wait.For(t, hotMinDuration+hotWindow+10*time.Second, "demotion after the burst", func() bool {
		return !contains(c.hot(), d.ID) && c.get(path, nil).tier == "MISS"
	})
	t.Logf("burst stop -> demoted and no longer served by nginx: %v (took %v since the burst started)", demoted.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// TestPrivateHotDocumentNeedsAValidToken: a private document made hot is
// served by nginx only with a valid read token; without one, or with a
// forged or expired one, the answer is the app's 404.
func TestPrivateHotDocumentNeedsAValidToken(t *testing.T) {
	c := startCluster(t)
	d := c.upload("POST", "", randomContent(8<<10), "private")
	var tok struct {
		Token string `json:"token"`
		URL   string `json:"url"`
	}
	if err := c.json("POST", "/api/v1/documents/"+d.ID+"/read-token", nil, &tok); err != nil {
		t.Fatal(err)
	}
	b := c.burst(tok.URL, 16)
	wait.For(t, promotionBound, "the private document served hot with its token", func() bool {
		for _, r := range b.snapshot() {
			if r.tier == "HOT" {
				return true
			}
		}
		return false
	})
	defer b.stop()
	path := "/api/v1/documents/" + d.ID + "/content"
	parts := strings.Split(tok.Token, ".")
	forged := strings.Join(append(parts[:len(parts)-1:len(parts)-1], strings.Repeat("0", len(parts[len(parts)-1]))), ".")
	secret := c.secret("DOCPLAT_READ_TOKEN_SECRET")
	user := parts[2]
	expired := readtoken.Sign(secret, d.ID, user, d.Revision, time.Now().Add(-time.Second))
	staleRev := readtoken.Sign(secret, d.ID, user, d.Revision-1, time.Now().Add(time.Minute))
	otherDoc := readtoken.Sign(secret, "someotherdocument", user, d.Revision, time.Now().Add(time.Minute))
	wrongSecret := readtoken.Sign([]byte("not-the-cluster-secret-at-all"), d.ID, user, d.Revision, time.Now().Add(time.Minute))
	cases := []struct {
		name   string
		path   string
		header http.Header
		status int
		tier   string
	}{
		{"valid token in the query", tok.URL, nil, 200, "HOT"},
		{"valid token in the header", path, http.Header{"X-Docplat-Read-Token": {tok.Token}}, 200, "HOT"},
		{"no token", path, nil, 404, "MISS"},
		{"forged signature", path + "?token=" + forged, nil, 404, "MISS"},
		{"expired", path + "?token=" + expired, nil, 404, "MISS"},
		{"older revision", path + "?token=" + staleRev, nil, 404, "MISS"},
		{"another document's", path + "?token=" + otherDoc, nil, 404, "MISS"},
		{"signed with another secret", path + "?token=" + wrongSecret, nil, 404, "MISS"},
		{"garbage", path + "?token=v1.x", nil, 404, "MISS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.get(tc.path, tc.header)
			if r.err != nil || r.status != tc.status || r.tier != tc.tier {
				t.Fatalf("got %d from %q (%v), want %d from %q", r.status, r.tier, r.err, tc.status, tc.tier)
			}
		})
	}
}

// TestKillingAnAppInstanceAndADetectorUnderLoad: with a hot document
// bursting and reads of other documents spread over every instance, kill -9
// one app instance and one detector: requests keep succeeding on the other
// upstreams and the hot document stays hot (the surviving detector takes
// the partitions over and seeds from the shared hot set).
func TestKillingAnAppInstanceAndADetectorUnderLoad(t *testing.T) {
	c := startCluster(t)
	hot := c.upload("POST", "", randomContent(4<<10), "public")
	var others []string
	for range 6 {
		others = append(others, c.upload("POST", "", randomContent(2<<10), "public").ID)
	}
	b := c.burst("/api/v1/documents/"+hot.ID+"/content", 12)
	defer b.stop()
	wait.For(t, promotionBound, "the hot document promoted", func() bool { return contains(c.hot(), hot.ID) })
	var cold []*burst
	for _, id := range others {
		cold = append(cold, c.burst("/api/v1/documents/"+id, 1))
	}
	time.Sleep(500 * time.Millisecond)
	killedAt := time.Now()
	c.kill("app2")
	c.kill("hotspot1")
	// Well past the rebalance (session timeout 3s) and the lease renewal.
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		if !contains(c.hot(), hot.ID) {
			t.Fatalf("the hot document left the hot set %v after the kills", time.Since(killedAt).Round(time.Millisecond))
		}
	}
	reads := b.stop()
	for _, o := range cold {
		reads = append(reads, o.stop()...)
	}
	var after, failedAfter, around int
	for _, r := range reads {
		ok := r.err == nil && r.status == http.StatusOK
		switch {
		case r.start.After(killedAt.Add(time.Second)):
			after++
			if !ok {
				failedAfter++
			}
		case r.end.After(killedAt) && !ok:
			around++ // in flight on the killed instance when it died
		}
	}
	t.Logf("%d reads from a second after the kills, %d failed; %d failed while the kill happened", after, failedAfter, around)
	if after == 0 || failedAfter > 0 {
		t.Fatalf("%d of %d reads failed after the kills", failedAfter, after)
	}
	if r := c.get("/api/v1/documents/"+hot.ID+"/content", nil); r.tier != "HOT" {
		t.Fatalf("the hot document is no longer served by nginx: %+v", r)
	}
}
