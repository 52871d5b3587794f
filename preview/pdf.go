package preview

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"docplat/errs"
	"docplat/internal/sandbox"
)

// poppler runs poppler-utils' pdfinfo and pdftoppm on a PDF file, one
// page at a time, each run in a sandbox (package sandbox: bounded in time,
// CPU, address space and output).
type poppler struct {
	pdfinfo, pdftoppm string
	timeout           time.Duration
	maxMemory         int64 // address space of one run
}

// maxOutput bounds what a run may write to its standard output: a page
// image of the largest width and height is far below it.
const maxOutput = 32 << 20

// Errors of a run, told apart because the caller answers them differently.
var (
	// errBroken: poppler cannot read the PDF (damaged, password
	// protected, not a PDF): asking again will not help.
	errBroken = errs.New(errs.Unprocessable, "the PDF cannot be read (damaged or password-protected), so it has no preview; the content itself can still be downloaded")
	// errRenderer: poppler failed otherwise, was killed or took too
	// long: a later attempt may work.
	errRenderer = errs.New(errs.Unavailable, "the PDF preview could not be rendered right now; retry in a moment")
)

func (p *poppler) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	res, err := sandbox.Run(ctx, sandbox.Limits{Timeout: p.timeout, MaxMemory: p.maxMemory, MaxOutput: maxOutput}, tool, args...)
	var exit *sandbox.ExitError
	switch {
	case errors.As(err, &exit) && (exit.Code == 1 || exit.Code == 3):
		// poppler's exit status 1 is "error opening a PDF file", 3 "error
		// related to PDF permissions"; a signal (the sandbox's bounds) or
		// any other status is the renderer's failure, not the file's.
		return nil, fmt.Errorf("%w: %w", err, errBroken)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", err, errRenderer)
	case res.Truncated:
		return nil, fmt.Errorf("%s wrote more than %d bytes: %w", tool, maxOutput, errRenderer)
	}
	return res.Stdout, nil
}

// pageInfo is what pdfinfo says of a document and one of its pages.
type pageInfo struct {
	pages         int
	width, height float64 // of the page asked for, in points, as displayed (rotation applied)
}

// info reads the page count and, when page > 0, that page's size.
func (p *poppler) info(ctx context.Context, file string, page int) (pageInfo, error) {
	args := []string{}
	if page > 0 {
		n := strconv.Itoa(page)
		args = append(args, "-f", n, "-l", n)
	}
	out, err := p.run(ctx, p.pdfinfo, append(args, file)...)
	if err != nil {
		return pageInfo{}, err
	}
	return parseInfo(out, page)
}

func parseInfo(out []byte, page int) (pageInfo, error) {
	var in pageInfo
	rot := 0
	prefix := "Page " // pdfinfo pads the number: "Page    1 size: 612 x 792 pts (letter)"
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "Pages:"); ok {
			in.pages, _ = strconv.Atoi(strings.TrimSpace(v))
			continue
		}
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok || page == 0 {
			continue
		}
		num, rest, _ := strings.Cut(strings.TrimSpace(rest), " ")
		if num != strconv.Itoa(page) {
			continue
		}
		rest = strings.TrimSpace(rest)
		if v, ok := strings.CutPrefix(rest, "size:"); ok {
			f := strings.Fields(v) // 612 x 792 pts ...
			if len(f) >= 3 {
				in.width, _ = strconv.ParseFloat(f[0], 64)
				in.height, _ = strconv.ParseFloat(f[2], 64)
			}
		} else if v, ok := strings.CutPrefix(rest, "rot:"); ok {
			rot, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if in.pages < 1 {
		return pageInfo{}, fmt.Errorf("pdfinfo names no pages: %w", errBroken)
	}
	if page > 0 && (in.width <= 0 || in.height <= 0) {
		return pageInfo{}, fmt.Errorf("pdfinfo names no size for page %d: %w", page, errBroken)
	}
	if rot%180 != 0 {
		in.width, in.height = in.height, in.width
	}
	return in, nil
}

// maxAspect bounds a page image's height to this many times its width:
// a page taller than that (a banner, or a file made to exhaust memory) is
// cut at the bottom.
const maxAspect = 4

// render draws one page width pixels wide as PNG.
func (p *poppler) render(ctx context.Context, file string, page, width int, in pageInfo) ([]byte, error) {
	dpi := 72 * float64(width) / in.width
	height := int(math.Ceil(in.height * dpi / 72))
	height = min(height, maxAspect*width)
	n := strconv.Itoa(page)
	return p.run(ctx, p.pdftoppm, "-png", "-f", n, "-l", n, "-singlefile",
		"-r", strconv.FormatFloat(dpi, 'f', 3, 64),
		"-x", "0", "-y", "0", "-W", strconv.Itoa(width), "-H", strconv.Itoa(height),
		file)
}
