package preview

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"docplat/errs"
)

// poppler runs poppler-utils' pdfinfo and pdftoppm on a PDF file, never
// through a shell, each run bounded in time, memory and CPU (see bounded)
// and output size.
type poppler struct {
	pdfinfo, pdftoppm string
	prlimit           string // "" runs the tools without it
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
	var out, stderr limitedBuffer
	out.max, stderr.max = maxOutput, 4<<10
	err := bounded{prlimit: p.prlimit, timeout: p.timeout, maxMemory: p.maxMemory}.run(ctx, nil, &out, &stderr, tool, args...)
	if err != nil {
		var exit *exec.ExitError
		// poppler's exit status 1 is "error opening a PDF file", 3 "error
		// related to PDF permissions"; any other status is the tool's
		// failure, not the file's (bounded.run tells its bounds apart).
		if errors.As(err, &exit) {
			if exit.ExitCode() == 1 || exit.ExitCode() == 3 {
				return nil, fmt.Errorf("%s: %s: %w", tool, strings.TrimSpace(stderr.String()), errBroken)
			}
			return nil, fmt.Errorf("%s: %v: %s: %w", tool, err, strings.TrimSpace(stderr.String()), errRenderer)
		}
		return nil, fmt.Errorf("%s: %w", tool, err)
	}
	if out.over {
		return nil, fmt.Errorf("%s wrote more than %d bytes: %w", tool, maxOutput, errLimits)
	}
	return out.Bytes(), nil
}

// bounded runs a converter as a child process in its own process group:
// never through a shell, with a scrubbed environment, killed with all its
// children when its wall time passes or ctx ends, its address space, CPU
// seconds and core dumps bounded by prlimit when the system has it.
//
// The two time bounds mean different things. CPU time past timeout is the
// file's doing (the kernel kills the child: errLimits, recorded, never
// tried again). Wall time past wallFactor times it is more likely a
// loaded machine than the file (a converter that waits without working
// is killed too): errRenderer, so that the job retries later.
type bounded struct {
	prlimit   string
	timeout   time.Duration // CPU time
	maxMemory int64
	env       []string // added to PATH and LANG
	dir       string
}

// wallFactor: a run may take this many times its CPU bound in wall time.
const wallFactor = 3

// run answers errLimits when the child was killed by a signal (prlimit's
// CPU and memory bounds), errRenderer when its wall time ran out, the
// context's error when ctx ended, an *exec.ExitError for any other
// failure.
func (b bounded) run(parent context.Context, stdin io.Reader, stdout, stderr io.Writer, tool string, args ...string) error {
	wall := wallFactor * b.timeout
	ctx, cancel := context.WithTimeout(parent, wall)
	defer cancel()
	name := tool
	if b.prlimit != "" {
		cpu := strconv.Itoa(int(math.Ceil(b.timeout.Seconds())))
		args = append([]string{"--as=" + strconv.FormatInt(b.maxMemory, 10), "--cpu=" + cpu, "--core=0", "--", tool}, args...)
		name = b.prlimit
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}, b.env...)
	cmd.Dir = b.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The whole group: LibreOffice's launcher leaves its worker behind.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // anything it left running
	}
	switch {
	case parent.Err() != nil:
		return fmt.Errorf("%s: %w", filepath.Base(tool), parent.Err())
	case ctx.Err() != nil:
		return fmt.Errorf("%s still running after %v: %w", filepath.Base(tool), wall, errRenderer)
	case err == nil:
		return nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Errorf("%s killed by signal (%v): %w", filepath.Base(tool), ws.Signal(), errLimits)
		}
		return err
	}
	return fmt.Errorf("%s: %v: %w", filepath.Base(tool), err, errRenderer)
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

// limitedBuffer keeps the first max bytes written to it and notes the rest.
type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); len(p) > room {
		b.over = true
		b.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
