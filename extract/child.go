package extract

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"docplat/internal/sandbox"
)

// childArg is the first argument that makes a binary holding this package
// the Office extractor instead of itself.
//
// The Office formats are parsed by this very binary started again
// (os.Executable) rather than by a separate command, so that every binary
// that can call Text can also be its child, with nothing to install or
// find: docplat serve and docplat worker, and the test binaries of every
// package that calls Text. init is the only hook such a binary offers to
// all of them; it costs one comparison when the argument is absent.
const childArg = "__docplat-extract-office"

func init() {
	if len(os.Args) >= 2 && os.Args[1] == childArg {
		os.Exit(childMain(os.Args[2:], os.Stdout, os.Stderr))
	}
}

// Exit statuses of the child.
const (
	childOK         = 0
	childUnreadable = 1 // the file is damaged or over a structural limit: stderr says why
	childUsage      = 64
)

// childMain is the child: args are the format, the file and the output
// limit; it writes the text to stdout.
func childMain(args []string, stdout, stderr io.Writer) int {
	if len(args) != 3 {
		fmt.Fprintln(stderr, "usage: "+childArg+" FORMAT FILE LIMIT")
		return childUsage
	}
	limit, err := strconv.ParseInt(args[2], 10, 64)
	if err != nil || limit <= 0 {
		fmt.Fprintln(stderr, "bad limit:", args[2])
		return childUsage
	}
	w := bufio.NewWriterSize(stdout, 64<<10)
	err = officeFile(args[1], args[0], &capWriter{w: w, left: limit}, defaultZipLimits)
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return childUnreadable
	}
	return childOK
}

var (
	selfOnce sync.Once
	self     string
	selfErr  error
)

// officeText runs the child on path in a sandbox.
func officeText(ctx context.Context, path, format string, limit int64) (string, error) {
	selfOnce.Do(func() { self, selfErr = os.Executable() })
	if selfErr != nil {
		return "", fmt.Errorf("%s: finding this binary: %w: %w", format, selfErr, ErrUnavailable)
	}
	lim := sandbox.Limits{
		Timeout: limits.officeTimeout, MaxMemory: limits.officeMemory, MaxOutput: rawOutput(limit),
		// One thread of work, and a heap the collector keeps far below the
		// address-space bound.
		Env: []string{"GOMAXPROCS=1", "GOMEMLIMIT=256MiB"},
	}
	res, err := sandbox.Run(ctx, lim, self, childArg, format, path, strconv.Itoa(rawOutput(limit)))
	var exit *sandbox.ExitError
	switch {
	case errors.As(err, &exit) && exit.Code == childUnreadable:
		return "", fmt.Errorf("%s: %s: %w", format, exit.Stderr, ErrUnreadable)
	case err != nil:
		return "", limitOrUnavailable(ctx, format, err)
	}
	return string(res.Stdout), nil
}

// capWriter passes on the first left bytes, then answers errEnough: the
// readers stop there, their text is complete enough.
type capWriter struct {
	w    io.Writer
	left int64
}

func (c *capWriter) Write(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errEnough
	}
	if int64(len(p)) > c.left {
		n, err := c.w.Write(p[:c.left])
		c.left = 0
		if err == nil {
			err = errEnough
		}
		return n, err
	}
	n, err := c.w.Write(p)
	c.left -= int64(n)
	return n, err
}
