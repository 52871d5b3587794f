package extract

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"sync"

	"docplat/internal/sandbox"
)

var (
	pdftotextOnce sync.Once
	pdftotextPath string
	pdftotextErr  error
)

// pdfText runs poppler-utils' pdftotext on the first pages of a PDF. It
// keeps more raw output than limit (pdftotext lays text out with runs of
// spaces that clean collapses), and stops the tool once it has that much.
func pdfText(ctx context.Context, path string, limit int64) (string, error) {
	pdftotextOnce.Do(func() { pdftotextPath, pdftotextErr = exec.LookPath("pdftotext") })
	if pdftotextErr != nil {
		return "", fmt.Errorf("pdftotext (poppler-utils) is not installed: %w: %w", pdftotextErr, ErrUnavailable)
	}
	lim := sandbox.Limits{Timeout: limits.pdfTimeout, MaxMemory: limits.pdfMemory, MaxOutput: rawOutput(limit)}
	res, err := sandbox.Run(ctx, lim, pdftotextPath, "-q", "-enc", "UTF-8", "-l", strconv.Itoa(limits.pdfPages), path, "-")
	var exit *sandbox.ExitError
	switch {
	case errors.As(err, &exit) && (exit.Code == 1 || exit.Code == 3 || exit.Code == 99):
		// pdftotext's 1 is "error opening a PDF file" (damaged, encrypted
		// with a password, not a PDF), 3 "error related to PDF
		// permissions" (the author forbade copying its text), 99 "other
		// error" (a page tree that lies about its count, for one); a
		// signal (the sandbox's bounds) is not the file's verdict.
		return "", unreadable("pdf", err)
	case err != nil:
		return "", limitOrUnavailable(ctx, "pdf", err)
	}
	return string(res.Stdout), nil
}

// rawOutput is how much a reader's output is kept for limit bytes of text.
func rawOutput(limit int64) int {
	return int(min(4*limit, 256<<20))
}

// limitOrUnavailable tells a run killed at its limits (the file's doing,
// most likely) from a run that could not happen.
func limitOrUnavailable(ctx context.Context, format string, err error) error {
	var exit *sandbox.ExitError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", format, err)
	case errors.Is(err, sandbox.ErrTimeout), errors.As(err, &exit):
		// A signal or an unexpected status: the address-space bound makes
		// allocations fail, which a tool (or the Go runtime) dies of.
		return fmt.Errorf("%s: %w: %w", format, err, ErrLimit)
	}
	return fmt.Errorf("%s: %w: %w", format, err, ErrUnavailable)
}
