package web

import (
	"os/exec"
	"strings"
	"testing"
)

// TestUIHonoursRetryAfter runs the UI's request() under node against a
// scripted fetch (testdata/retry.mjs): refused reads are resent after the
// advised delay, writes without an Idempotency-Key are not.
func TestUIHonoursRetryAfter(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	out, err := exec.Command(node, "testdata/retry.mjs", "static/assets/api.js").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("%v\n%s", err, out)
	}
}
