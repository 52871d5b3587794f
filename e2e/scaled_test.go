package e2e

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestScaledOutShapeUsesEachEngine: in the scaled-out shape the apps really
// run on the engines it names: a document's bytes travel through S3, its
// search and cache misses are answered by the replica, and L2 is a Redis
// Cluster; so the package's other tests, passing in that shape, passed on them.
func TestScaledOutShapeUsesEachEngine(t *testing.T) {
	if !scaledOut() {
		t.Skip("DOCPLAT_E2E_SHAPE=scaled runs the package on MinIO, a Redis Cluster and a MariaDB replica")
	}
	c := startCluster(t)
	before := c.sumMetrics(t)
	word := "scaledshape" + strconv.FormatInt(time.Now().UnixNano(), 36)
	d := c.upload("POST", "", append([]byte(word+" "), randomContent(64<<10)...), "public")
	if r := c.get("/api/v1/documents/"+d.ID+"/content", nil); r.status != http.StatusOK {
		t.Fatalf("content: %d", r.status)
	}
	// A search from a user who has not just written (the admin did: their
	// reads stay on the primary for the lag bound) goes to the replica:
	// wait until the mark has expired.
	var found bool
	deadline := time.Now().Add(20 * time.Second)
	for !found && time.Now().Before(deadline) {
		var res struct {
			Items []document `json:"items"`
		}
		if err := c.json("GET", "/api/v1/documents?q="+word, nil, &res); err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			found = found || it.ID == d.ID
		}
		after := c.sumMetrics(t)
		if found && after["replica"] <= before["replica"] {
			found = false // answered by the primary: ask again once the mark expired
		}
		if !found {
			time.Sleep(500 * time.Millisecond)
		}
	}
	after := c.sumMetrics(t)
	if !found {
		t.Fatalf("the search never found %s on the replica (reads routed to replicas %v -> %v)", d.ID, before["replica"], after["replica"])
	}
	if after["s3"] <= before["s3"] {
		t.Errorf("no S3 request for an upload and a read: %v -> %v", before["s3"], after["s3"])
	}
	var onCluster int
	for i := 1; i <= 3; i++ {
		b, err := os.ReadFile(filepath.Join(c.Dir, "logs", "app"+strconv.Itoa(i)+".log"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "L2 cache on a Redis Cluster") {
			onCluster++
		}
	}
	if onCluster != 3 {
		t.Errorf("%d of 3 apps say their L2 cache is on a Redis Cluster", onCluster)
	}
	t.Logf("S3 requests %v, reads routed to the replica %v", after["s3"]-before["s3"], after["replica"]-before["replica"])
}

// sumMetrics adds up, over the apps that answer, the S3 requests
// (docplat_blob_s3_request_duration_seconds_count) and the reads routed to
// a replica (docplat_db_reads_routed_total, to != primary).
func (c *cluster) sumMetrics(t *testing.T) map[string]float64 {
	t.Helper()
	sum := map[string]float64{}
	answered := 0
	for i := 1; i <= 3; i++ {
		res, err := c.client.Get(c.AppURL(i) + "/metrics")
		if err != nil {
			continue // an app another test killed (TestKillingAnAppInstance...)
		}
		answered++
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			key := ""
			switch {
			case strings.HasPrefix(line, "docplat_blob_s3_request_duration_seconds_count"):
				key = "s3"
			case strings.HasPrefix(line, "docplat_db_reads_routed_total") && !strings.Contains(line, `to="primary"`):
				key = "replica"
			default:
				continue
			}
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err == nil {
				sum[key] += v
			}
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	if answered == 0 {
		t.Fatal("no app answered /metrics")
	}
	return sum
}
