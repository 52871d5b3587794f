// Package sandbox runs a tool on untrusted input as a child process bounded
// in wall time (the context's deadline kills it), CPU seconds and address
// space (prlimit from util-linux, when the system has it) and output size,
// never through a shell and with an environment of its own. It is the one
// place docplat starts such children: poppler's renderers and LibreOffice
// for previews, pdftotext and the Office extractor for search.
//
// It tells apart how a run ended (exit status, killed at a limit, output
// cut) and leaves to the caller what that means for its input: a tool's
// exit status is the tool's vocabulary. It imports no other docplat package.
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Limits bound one run.
type Limits struct {
	// Timeout bounds the run's wall time and, unless CPU is set, rounded
	// up to whole seconds, its CPU time.
	Timeout time.Duration
	// CPU, when set, bounds the run's CPU time (rounded up to whole
	// seconds) apart from its wall time: a caller that wants a loaded
	// machine's slowness (wall time) told apart from the file's own work
	// (CPU time) gives a Timeout longer than CPU.
	CPU time.Duration
	// MaxMemory bounds the child's address space in bytes (0: unbounded).
	MaxMemory int64
	// MaxOutput is how many bytes of standard output are kept. A child that
	// writes more is killed; Run then answers the first MaxOutput bytes with
	// Truncated set (no error): the caller decides whether a prefix is useful.
	MaxOutput int
	// Env is added to the child's environment, which otherwise holds only
	// PATH and LANG: nothing of the server's (credentials, DSNs) leaks in.
	Env []string
	// Dir is the child's working directory ("": the server's).
	Dir string
	// Stdin is the child's standard input (nil: /dev/null).
	Stdin io.Reader
}

// Result is what a run wrote.
type Result struct {
	Stdout    []byte
	Truncated bool // the child wrote more than MaxOutput and was stopped
	// Stderr is the first few KiB of the child's standard error: some
	// tools (LibreOffice) say why they failed there and still exit 0.
	Stderr string
}

var (
	// ErrTimeout: the run outlived Limits.Timeout (or its CPU seconds) and was killed.
	ErrTimeout = errors.New("sandbox: the child ran out of time")
	// ErrLimit: the child was killed by a signal Run did not send: the
	// kernel's CPU bound (SIGXCPU, then SIGKILL), or the address-space
	// bound (an allocation fails and the tool aborts or crashes). Work the
	// input made the child do, not the machine's state: the same input
	// will end the same way. An error wrapping it is also an *ExitError;
	// the CPU bound's also wraps ErrTimeout.
	ErrLimit = errors.New("sandbox: the child was killed at a limit")
)

// ExitError is a run that ended on its own with a non-zero status, or was
// killed by a signal it did not get from Run's timeout (the address-space
// bound makes allocations fail, the CPU bound sends SIGXCPU then SIGKILL).
type ExitError struct {
	Tool   string
	Code   int    // exit status; -1 when a signal ended the run
	Signal string // the signal's name when one ended the run
	Stderr string // the first few KiB of the child's standard error
}

func (e *ExitError) Error() string {
	how := "exit status " + strconv.Itoa(e.Code)
	if e.Code < 0 {
		how = "killed by " + e.Signal
	}
	// The first line says what happened; the rest (a Go runtime's stack
	// dump) is in Stderr for whoever wants it.
	first, _, _ := strings.Cut(e.Stderr, "\n")
	if first == "" {
		return e.Tool + ": " + how
	}
	return e.Tool + ": " + how + ": " + first
}

var (
	prlimitOnce sync.Once
	prlimitPath string // "": the system has no prlimit, runs are bounded in time and output only
)

// Bounded reports whether runs are bounded in memory and CPU too (prlimit
// is installed), for a log line at start-up.
func Bounded() bool {
	prlimitOnce.Do(func() { prlimitPath, _ = exec.LookPath("prlimit") })
	return prlimitPath != ""
}

// stderrMax bounds the standard error kept for an ExitError.
const stderrMax = 4 << 10

// Run runs tool with args under lim and answers its standard output.
// Errors: ErrTimeout; *ExitError (wrapped with ErrLimit when a signal
// ended the child); the context's error when ctx ended first (the child is
// killed then too); another error when the tool cannot start. Whatever
// the child's process group left running when it ended is killed too.
func Run(ctx context.Context, lim Limits, tool string, args ...string) (Result, error) {
	if lim.Timeout <= 0 || lim.MaxOutput <= 0 {
		return Result{}, errors.New("sandbox: a run needs a timeout and an output bound")
	}
	runCtx, cancel := context.WithTimeoutCause(ctx, lim.Timeout, ErrTimeout)
	defer cancel()
	tool, err := exec.LookPath(tool)
	if err != nil {
		return Result{}, fmt.Errorf("sandbox: %w", err)
	}
	name := tool
	if Bounded() {
		cpuBound := lim.Timeout
		if lim.CPU > 0 {
			cpuBound = lim.CPU
		}
		cpu := strconv.Itoa(int(math.Ceil(cpuBound.Seconds())))
		pre := []string{"--cpu=" + cpu, "--core=0"}
		if lim.MaxMemory > 0 {
			pre = append(pre, "--as="+strconv.FormatInt(lim.MaxMemory, 10))
		}
		args = append(append(pre, "--", tool), args...)
		name = prlimitPath
	}
	cmd := exec.CommandContext(runCtx, name, args...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "LANG=C"}, lim.Env...)
	// The child leads a process group of its own, and the whole group is
	// killed: a tool that forks helpers leaves none behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out := &capped{max: lim.MaxOutput, full: cancel}
	stderr := &capped{max: stderrMax}
	cmd.Stdout, cmd.Stderr, cmd.Stdin, cmd.Dir = out, stderr, lim.Stdin, lim.Dir
	err = cmd.Run()
	if cmd.Process != nil {
		// A launcher (LibreOffice's soffice) may exit and leave its worker
		// behind in the group: nothing of a run outlives it.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	res := Result{Stdout: out.buf.Bytes(), Truncated: out.over, Stderr: strings.TrimSpace(stderr.buf.String())}
	switch {
	case out.over:
		// Stopped by us for writing too much: what it wrote is the answer.
		return res, nil
	case errors.Is(context.Cause(runCtx), ErrTimeout):
		return Result{}, fmt.Errorf("%s: killed after %v: %w", tool, lim.Timeout, ErrTimeout)
	case ctx.Err() != nil:
		return Result{}, fmt.Errorf("%s: %w", tool, ctx.Err())
	case err == nil:
		return res, nil
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return Result{}, fmt.Errorf("sandbox: start %s: %w", tool, err)
	}
	e := &ExitError{Tool: tool, Code: exit.ExitCode(), Stderr: res.Stderr}
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Code, e.Signal = -1, ws.Signal().String()
		if ws.Signal() == syscall.SIGXCPU || ws.Signal() == syscall.SIGKILL {
			// The CPU bound (SIGXCPU at the soft limit, SIGKILL at the
			// hard one; Run's own kills were answered above): out of time,
			// as the wall clock's verdict, and at a limit.
			return Result{}, fmt.Errorf("%s: %w: %w: %w", tool, e, ErrLimit, ErrTimeout)
		}
		return Result{}, fmt.Errorf("%s: %w: %w", tool, e, ErrLimit)
	}
	return Result{}, e
}

// capped keeps the first max bytes written to it; past them it notes the
// overflow and calls full (which kills the child: reading on would only
// burn CPU for bytes nobody keeps). The buffer is a field, not embedded:
// an embedded bytes.Buffer's ReadFrom would let io.Copy (which os/exec
// uses) bypass Write and its bound.
type capped struct {
	buf  bytes.Buffer
	max  int
	over bool
	full func()
}

func (b *capped) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		if !b.over {
			b.over = true
			if b.full != nil {
				b.full()
			}
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}
