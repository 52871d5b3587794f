package testcorpus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// LookSoffice finds LibreOffice's soffice.
func LookSoffice() (string, error) { return exec.LookPath("soffice") }

// NeedSoffice answers LibreOffice's soffice, or skips the test when it is
// missing (fails in CI, where scripts/test-deps.sh installs it).
func NeedSoffice(tb testing.TB) string {
	tb.Helper()
	p, err := LookSoffice()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("LibreOffice (soffice) is not installed; scripts/test-deps.sh installs it")
		}
		tb.Skip("LibreOffice (soffice) is not installed, so the files it converts are not tested; run scripts/test-deps.sh")
	}
	return p
}

// Convert has LibreOffice convert files (name -> content) to the format
// of extension to ("pdf", "docx", "pptx", "xlsx"...), in one run, and
// answers the results by their source's name. Results are cached by the
// inputs' hash, so a second run of the tests costs no conversion.
func Convert(tb testing.TB, to string, files map[string][]byte) map[string][]byte {
	tb.Helper()
	soffice := NeedSoffice(tb)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	h := sha256.New()
	h.Write([]byte("v1 " + to))
	for _, n := range names {
		h.Write([]byte("\x00" + n + "\x00"))
		h.Write(files[n])
	}
	dir := filepath.Join(CacheDir(tb, "soffice"), hex.EncodeToString(h.Sum(nil))[:16])
	out := map[string][]byte{}
	read := func() bool {
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(dir, "out", strings.TrimSuffix(n, filepath.Ext(n))+"."+to))
			if err != nil {
				return false
			}
			out[n] = b
		}
		return true
	}
	if read() {
		return out
	}
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		tb.Fatal(err)
	}
	args := []string{"--headless", "--norestore", "-env:UserInstallation=file://" + filepath.Join(dir, "profile"),
		"--convert-to", to, "--outdir", filepath.Join(dir, "out")}
	for _, n := range names {
		p := filepath.Join(in, n)
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			tb.Fatal(err)
		}
		args = append(args, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, soffice, args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("soffice --convert-to %s: %v: %s", to, err, b)
	}
	if !read() {
		tb.Fatalf("soffice --convert-to %s did not write every file into %s", to, dir)
	}
	tb.Logf("LibreOffice converted %d files to %s in %v (cached in %s)", len(names), to, time.Since(start).Round(time.Millisecond), dir)
	os.RemoveAll(filepath.Join(dir, "profile"))
	return out
}
