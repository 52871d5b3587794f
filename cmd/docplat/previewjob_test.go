package main

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"docplat/internal/testdb"
	"docplat/internal/wait"
)

// TestPreviewJobs: over HTTP, a Word file uploaded gets its previews and
// its searchable text by itself, from the work queue's "preview" and
// "extract" jobs run by the in-process workers (nothing here calls
// Generate). A damaged PDF's preview job fails for good at once (422,
// recorded; no retry), and so does its extraction job.
func TestPreviewJobs(t *testing.T) {
	if _, err := exec.LookPath("soffice"); err != nil && os.Getenv("CI") == "" {
		t.Skip("LibreOffice is not installed; run scripts/test-deps.sh")
	}
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		admin := a.admin()
		r, d := admin.upload("lecture.docx", docx(t, "力学讲义 第一章", "The zyxquark law of motion"), map[string]string{"visibility": "private"})
		if r.status != 201 {
			t.Fatalf("upload docx: %d %s", r.status, r.body)
		}
		// LibreOffice on a loaded machine takes its time: the CPU bound's
		// wall time, not the usual wait.
		took := wait.For(t, 3*time.Minute, "the docx's preview to be made by its job", func() bool {
			return admin.do("GET", "/api/v1/documents/"+d.ID+"/preview", nil, nil).preview(t).Kind == "office"
		})
		t.Logf("upload to preview: %v", took.Round(time.Millisecond))
		if res := admin.do("GET", "/api/v1/documents/"+d.ID+"/preview?page=1&width=960", nil, nil); res.status != 200 || res.header.Get("Content-Type") != "image/png" {
			t.Errorf("docx page: %d %v", res.status, res.header)
		} else if img, err := png.Decode(bytes.NewReader(res.body)); err != nil || img.Bounds().Dx() != 960 {
			t.Errorf("docx page is not a PNG 960 wide: %v", err)
		}
		took = wait.For(t, time.Minute, "a word of the docx's body to find it", func() bool {
			return slices.Contains(ids(admin.search("q=zyxquark")), d.ID)
		})
		t.Logf("upload to searchable (after the preview): %v", took.Round(time.Millisecond))

		r, broken := admin.upload("broken.pdf", []byte("%PDF-1.4\nnot really a PDF\n"), map[string]string{"visibility": "private"})
		if r.status != 201 {
			t.Fatalf("upload pdf: %d %s", r.status, r.body)
		}
		wait.For(t, time.Minute, "the damaged PDF's preview to be refused by its job", func() bool {
			res := admin.do("GET", "/api/v1/documents/"+broken.ID+"/preview", nil, nil)
			return res.status == 422 && res.errorCode() == "unprocessable"
		})
		// The job ends (and is counted) after the generator recorded the file.
		wait.For(t, wait.Limit, "the preview job to fail for good", func() bool {
			return a.metric(`docplat_job_failures_total{kind="preview"}`) == "1"
		})
		// Its extraction too: failed for good, not retried.
		wait.For(t, wait.Limit, "the extraction job to fail for good", func() bool {
			return a.metric(`docplat_job_failures_total{kind="extract"}`) == "1"
		})
		for _, kind := range []string{"preview", "extract"} {
			if n := a.metric(`docplat_job_retries_total{kind="` + kind + `"}`); n != "0" {
				t.Errorf("%s jobs retried: %q, want 0 (the file's fault is permanent)", kind, n)
			}
		}
		var got document
		admin.doJSON("GET", "/api/v1/documents/"+broken.ID, nil, 200, &got)
		if got.TextState != "failed" {
			t.Errorf("the damaged PDF's text_state: %q, want failed", got.TextState)
		}
	})
}
