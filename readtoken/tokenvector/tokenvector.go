// Package tokenvector loads the read-token test vector that the Go signer
// (readtoken) and the Lua verifier (nginx) must both agree on. Test
// support only: nothing outside _test.go files imports it.
package tokenvector

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Vector is readtoken/testdata/vector.json: a token and what it was signed over.
type Vector struct {
	Secret string `json:"secret"`
	DocID  string `json:"doc_id"`
	UserID string `json:"user_id"`
	Rev    int    `json:"rev"`
	Exp    int64  `json:"exp_unix"`
	Token  string `json:"token"`
}

// Load reads the vector, wherever the calling test runs from.
func Load(t testing.TB) Vector {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "testdata", "vector.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v Vector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
