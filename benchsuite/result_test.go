package benchsuite

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestReportJSONShape(t *testing.T) {
	b, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Machine      struct{ CPUs int } `json:"machine"`
		Measurements []struct {
			Name, Kind, Baseline string
			Result               map[string]any
		} `json:"measurements"`
		OfferedLoad []struct {
			Points []struct {
				X      float64
				Result map[string]any
			}
		} `json:"offered_load"`
		Reference struct {
			Points []struct {
				X      float64
				Result map[string]any
			}
		} `json:"reference"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Machine.CPUs != 2 || len(doc.Measurements) != 4 || len(doc.OfferedLoad) != 1 || len(doc.Reference.Points) != 2 {
		t.Fatalf("shape: %s", b)
	}
	hot := doc.Measurements[2]
	if hot.Name != "hot-tier" || hot.Kind != "path" || hot.Baseline != "nginx-static" {
		t.Errorf("hot-tier entry: %+v", hot)
	}
	// Latencies are float milliseconds (loadgen.Millis), rates per second.
	if hot.Result["p99_ms"] != 8.0 || hot.Result["successes_per_sec"] != 30000.0 {
		t.Errorf("hot-tier result: p99_ms=%v successes_per_sec=%v", hot.Result["p99_ms"], hot.Result["successes_per_sec"])
	}
	if p := doc.Reference.Points[1]; p.X != 10000 || p.Result["mean_ms"] != 900.0 || p.Result["failures"] != 250.0 {
		t.Errorf("reference point: %+v", p)
	}
}

func TestWriteAllRoundTrips(t *testing.T) {
	dir := t.TempDir()
	rep := sampleReport()
	paths, err := rep.WriteAll(filepath.Join(dir, "results"), filepath.Join(dir, "plots"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 5 {
		t.Fatalf("wrote %v, want json, txt, md and two charts", paths)
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	back, err := ReadJSON(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if back.Table() != rep.Table() {
		t.Errorf("the table of the re-read report differs:\n%s\nwant\n%s", back.Table(), rep.Table())
	}
}
