package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"docplat/loadgen"
	"docplat/loadgen/scenario"
)

// TestLoadgenRecordsSuccessesAgainstEmbeddedServer is the CI smoke test of
// `docplat-bench loadgen`: it seeds through the API of an embedded server, runs the default mix closed-loop for 3 s and fails unless every
// kind of request recorded successes.
func TestLoadgenRecordsSuccessesAgainstEmbeddedServer(t *testing.T) {
	url := embeddedServer(t)
	out := filepath.Join(t.TempDir(), "out.json")
	err := loadgenCmd(context.Background(), []string{
		"-url", url, "-user", "admin", "-password", adminPassword,
		"-docs", "20", "-users", "8", "-duration", "3s", "-json", out,
	})
	if err != nil {
		t.Fatalf("docplat-bench loadgen: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res loadgen.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Successes == 0 {
		t.Fatalf("no successful request: %s", b)
	}
	for _, kind := range scenario.Kinds {
		if s := res.ByName[kind]; s == nil || s.Successes == 0 {
			t.Errorf("%s: no successes (%s)", kind, b)
		}
	}
}

func TestJTLSummaryCommandFailsWithoutSamples(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.jtl")
	if err := os.WriteFile(empty, []byte("timeStamp,elapsed,label,responseCode,success\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"summary", empty},
		{"summary", filepath.Join(dir, "missing.jtl")},
		{"summary"},
		{"sum", empty},
	} {
		if err := jtlCmd(args); err == nil {
			t.Errorf("docplat-bench jtl %s: succeeded", strings.Join(args, " "))
		}
	}
}

// TestJMeterPlanRecordsResults is the CI smoke test of the JMeter plan: it
// runs scripts/jmeter.sh (the XStream launcher, seeding, one 5-user step of
// 6 s; a loaded machine left a JVM under a second of 3) against an
// embedded server and fails unless the step's summary recorded successes. Without JMeter it skips, unless CI is set.
func TestJMeterPlanRecordsResults(t *testing.T) {
	if _, err := os.Stat("/usr/share/jmeter/lib/ext/ApacheJMeter_core.jar"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("JMeter is not installed (apt-get install jmeter, or scripts/test-deps.sh); set CI to make this a failure")
		}
		t.Fatal("CI is set but JMeter is not installed: scripts/test-deps.sh installs it")
	}
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	host, port, _ := strings.Cut(strings.TrimPrefix(embeddedServer(t), "http://"), ":")
	out := t.TempDir()
	cmd := exec.Command("../../scripts/jmeter.sh", "-host", host, "-port", port,
		"-user", "admin", "-password", adminPassword,
		"-steps", "5", "-duration", "6", "-ramp", "1", "-docs", "10", "-out", out)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/jmeter.sh: %v\n%s", err, b)
	}
	js, err := os.ReadFile(filepath.Join(out, "step-5.json"))
	if err != nil {
		t.Fatalf("no summary written: %v\n%s", err, b)
	}
	var s struct {
		Total     int64                                 `json:"total"`
		Successes int64                                 `json:"successes"`
		ByName    map[string]*struct{ Successes int64 } `json:"by_name"`
	}
	if err := json.Unmarshal(js, &s); err != nil {
		t.Fatal(err)
	}
	if s.Successes == 0 {
		t.Fatalf("JMeter recorded no successful sample: %s", js)
	}
	// Every kind the plan sampled succeeded. On a loaded machine the JVM
	// kept under a second of the step, so a 5% sampler may not have run at
	// all: only the reads (80% of the mix) must have been sampled.
	for kind, n := range s.ByName {
		if n.Successes == 0 {
			t.Errorf("JMeter: %s was sampled but never succeeded: %s", kind, js)
		}
	}
	for _, kind := range []string{scenario.ReadMeta, scenario.ReadContent} {
		if s.ByName[kind] == nil {
			t.Errorf("JMeter: no %s sample: %s", kind, js)
		}
	}
}
