package preview

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"docplat/errs"
	"docplat/internal/sandbox"
)

// poppler runs poppler-utils' pdfinfo and pdftoppm on a PDF file, each
// run in a sandbox (package sandbox: bounded in wall time, CPU, address
// space and output; see limits for what its bounds mean here).
type poppler struct {
	pdfinfo, pdftoppm string
	timeout           time.Duration
	maxMemory         int64 // address space of one run
}

// maxOutput bounds what a run may write to its standard output (pdfinfo's
// text; pdftoppm writes its images to files).
const maxOutput = 1 << 20

// Errors of a run, told apart because the caller answers them differently.
var (
	// errBroken: poppler cannot read the PDF (damaged, password
	// protected, not a PDF): asking again will not help.
	errBroken = errs.New(errs.Unprocessable, "the PDF cannot be read (damaged or password-protected), so it has no preview; the content itself can still be downloaded")
	// errLimits: the file needed more time or memory than a run may
	// take; the same file will again.
	errLimits = errs.New(errs.Unprocessable, "the file needs more time or memory to preview than this server allows, so it has no preview; the content itself can still be downloaded")
	// errRenderer: the tool failed otherwise: a later attempt may work.
	errRenderer = errs.New(errs.Unavailable, "the preview could not be rendered right now; retry in a moment")
)

func (p *poppler) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	res, err := sandbox.Run(ctx, limits(p.timeout, p.maxMemory, maxOutput), tool, args...)
	var exit *sandbox.ExitError
	switch {
	case errors.As(err, &exit) && (exit.Code == 1 || exit.Code == 3):
		// poppler's exit status 1 is "error opening a PDF file", 3 "error
		// related to PDF permissions".
		return nil, fmt.Errorf("%w: %w", err, errBroken)
	case err != nil:
		return nil, runError(err)
	case res.Truncated:
		return nil, fmt.Errorf("%s wrote more than %d bytes: %w", tool, maxOutput, errLimits)
	}
	return res.Stdout, nil
}

// wallFactor: a run may take this many times its CPU bound in wall time.
const wallFactor = 3

// limits bounds a converter's run. The two time bounds mean different
// things. CPU time past cpu is the file's doing (the kernel kills the
// child: errLimits, recorded, never tried again). Wall time past
// wallFactor times it is more likely a loaded machine than the file (a
// converter that waits without working is killed too): errRenderer, so
// that the job retries later.
func limits(cpu time.Duration, maxMemory int64, maxOutput int) sandbox.Limits {
	return sandbox.Limits{Timeout: wallFactor * cpu, CPU: cpu, MaxMemory: maxMemory, MaxOutput: maxOutput,
		Env: []string{"LANG=C.UTF-8"}}
}

// runError says what a failed run means for the file: killed at its CPU
// or memory bound, the file's fault (errLimits); the wall clock, another
// exit status or a tool that cannot start, the machine's (errRenderer);
// the context's end is neither and stays as it is.
func runError(err error) error {
	switch {
	case ctxEnded(err):
		return err
	case errors.Is(err, sandbox.ErrLimit):
		return fmt.Errorf("%w: %w", err, errLimits)
	}
	return fmt.Errorf("%w: %w", err, errRenderer)
}

func ctxEnded(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// docInfo is what pdfinfo says of a document and its first pages.
type docInfo struct {
	pages int
	// widths of pages 1 to len(widths), in points, as displayed
	// (rotation applied).
	widths []float64
}

// info reads the page count and the widths of pages 1 to last.
func (p *poppler) info(ctx context.Context, file string, last int) (docInfo, error) {
	out, err := p.run(ctx, p.pdfinfo, "-f", "1", "-l", strconv.Itoa(last), file)
	if err != nil {
		return docInfo{}, err
	}
	return parseInfo(out, last)
}

// parseInfo reads pdfinfo's output: "Pages: N", and for each page asked
// for "Page    1 size: 612 x 792 pts (letter)" and "Page    1 rot:  90"
// (the number padded).
func parseInfo(out []byte, last int) (docInfo, error) {
	var in docInfo
	type size struct {
		w, h float64
		rot  int
	}
	sizes := map[int]*size{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "Pages:"); ok {
			in.pages, _ = strconv.Atoi(strings.TrimSpace(v))
			continue
		}
		rest, ok := strings.CutPrefix(line, "Page ")
		if !ok {
			continue
		}
		num, rest, _ := strings.Cut(strings.TrimSpace(rest), " ")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > last {
			continue
		}
		if sizes[n] == nil {
			sizes[n] = &size{}
		}
		rest = strings.TrimSpace(rest)
		if v, ok := strings.CutPrefix(rest, "size:"); ok {
			f := strings.Fields(v) // 612 x 792 pts ...
			if len(f) >= 3 {
				sizes[n].w, _ = strconv.ParseFloat(f[0], 64)
				sizes[n].h, _ = strconv.ParseFloat(f[2], 64)
			}
		} else if v, ok := strings.CutPrefix(rest, "rot:"); ok {
			sizes[n].rot, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if in.pages < 1 {
		return docInfo{}, fmt.Errorf("pdfinfo names no pages: %w", errBroken)
	}
	for n := 1; n <= min(last, in.pages); n++ {
		sz := sizes[n]
		if sz == nil || sz.w <= 0 || sz.h <= 0 {
			return docInfo{}, fmt.Errorf("pdfinfo names no size for page %d: %w", n, errBroken)
		}
		w := sz.w
		if sz.rot%180 != 0 {
			w = sz.h
		}
		in.widths = append(in.widths, w)
	}
	return in, nil
}

// maxAspect bounds a page image's height to this many times its width:
// a page taller than that (a banner, or a file made to exhaust memory) is
// cut at the bottom.
const maxAspect = 4

// renderPages draws pages first to last, all pageWidth points wide,
// width pixels wide as PNG files <prefix>-<page>.png (the number
// zero-padded as pdftoppm does). The resolution is computed here rather
// than with -scale-to-x, which measures a turned page before turning it.
func (p *poppler) renderPages(ctx context.Context, file string, first, last int, pageWidth float64, width int, prefix string) error {
	dpi := 72 * float64(width) / pageWidth
	_, err := p.run(ctx, p.pdftoppm, "-png", "-f", strconv.Itoa(first), "-l", strconv.Itoa(last),
		"-r", strconv.FormatFloat(dpi, 'f', 3, 64),
		"-x", "0", "-y", "0", "-W", strconv.Itoa(width), "-H", strconv.Itoa(maxAspect*width),
		file, prefix)
	return err
}
