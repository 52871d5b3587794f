package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary is also the misbehaving child of the tests below.
func TestMain(m *testing.M) {
	switch os.Getenv("SANDBOX_TEST_CHILD") {
	case "allocate":
		// Touch 768 MiB, a page at a time: over the bound given, on top
		// of the address space the Go runtime reserves as it starts.
		var keep [][]byte
		for range 24 {
			b := make([]byte, 32<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			keep = append(keep, b)
		}
		os.Exit(len(keep) - 24)
	case "spin":
		for {
		}
	}
	os.Exit(m.Run())
}

func self(t *testing.T) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func needPrlimit(t *testing.T) {
	t.Helper()
	if !Bounded() {
		if os.Getenv("CI") == "true" {
			t.Fatal("prlimit (util-linux) is not installed")
		}
		t.Skip("prlimit (util-linux) is not installed: runs are bounded in time and output only")
	}
}

func TestRunAnswersOutputAndExitStatus(t *testing.T) {
	lim := Limits{Timeout: 5 * time.Second, MaxOutput: 1 << 10, Env: []string{"GREETING=hello"}}
	res, err := Run(context.Background(), lim, "/bin/sh", "-c", `echo "$GREETING $DOCPLAT_SECRET"`)
	if err != nil || string(res.Stdout) != "hello \n" || res.Truncated {
		t.Errorf("Run = %q, %v, %v; want the child's output and none of the parent's environment", res.Stdout, res.Truncated, err)
	}
	_, err = Run(context.Background(), lim, "/bin/sh", "-c", "echo broken >&2; echo more >&2; exit 3")
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 || exit.Stderr != "broken\nmore" || !strings.HasSuffix(err.Error(), "exit status 3: broken") {
		t.Errorf("error = %#v (%v), want exit status 3 with its stderr", err, err)
	}
	if _, err := Run(context.Background(), lim, "/nonexistent/tool"); err == nil || errors.As(err, &exit) {
		t.Errorf("a missing tool: %v, want a start error", err)
	}
}

func TestRunKillsAChildAtItsTimeoutWithItsChildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("PIDFILE", pidFile)
	start := time.Now()
	_, err := Run(context.Background(), Limits{Timeout: 300 * time.Millisecond, MaxOutput: 1 << 10, Env: []string{"PIDFILE=" + pidFile}},
		"/bin/sh", "-c", `sleep 30 & echo $! > "$PIDFILE"; wait`)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error = %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("answered after %v", took)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the child's own child %d is still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunStopsAChildThatWritesTooMuch(t *testing.T) {
	start := time.Now()
	res, err := Run(context.Background(), Limits{Timeout: 10 * time.Second, MaxOutput: 1000}, "/usr/bin/yes", "docplat")
	if err != nil || !res.Truncated || len(res.Stdout) != 1000 || !strings.HasPrefix(string(res.Stdout), "docplat\ndocplat\n") {
		t.Errorf("Run = %d bytes, truncated %v, %v", len(res.Stdout), res.Truncated, err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the child was stopped after %v, not at once", took)
	}
}

func TestRunBoundsMemory(t *testing.T) {
	needPrlimit(t)
	lim := Limits{Timeout: 20 * time.Second, MaxMemory: 1280 << 20, MaxOutput: 1 << 10, Env: []string{"SANDBOX_TEST_CHILD=allocate"}}
	_, err := Run(context.Background(), lim, self(t))
	var exit *ExitError
	if !errors.As(err, &exit) || !strings.Contains(exit.Stderr, "out of memory") {
		t.Errorf("error = %v, want the child dead of its memory bound", err)
	}
	// Without the bound the same child succeeds: the bound is what failed it.
	lim.MaxMemory = 0
	if _, err := Run(context.Background(), lim, self(t)); err != nil {
		t.Errorf("without a memory bound: %v", err)
	}
}

func TestRunBoundsCPU(t *testing.T) {
	needPrlimit(t)
	// The CPU bound is the timeout rounded up to whole seconds; a wall
	// clock far longer shows which one stopped the child.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, Limits{Timeout: 900 * time.Millisecond, MaxOutput: 1 << 10, Env: []string{"SANDBOX_TEST_CHILD=spin"}}, self(t))
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("error = %v, want ErrTimeout", err)
	}
	t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
}

func TestRunEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, Limits{Timeout: time.Minute, MaxOutput: 1 << 10}, "/bin/sleep", "30")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Errorf("error = %v, want the context's", err)
	}
}

func TestRunBoundsCPUApartFromWallTime(t *testing.T) {
	needPrlimit(t)
	// A CPU bound of 1 s inside a wall bound of 30 s: the kernel's kill is
	// told apart from the wall clock's (ErrLimit), and still reads as out
	// of time for callers that ask only that.
	start := time.Now()
	_, err := Run(context.Background(), Limits{Timeout: 30 * time.Second, CPU: time.Second, MaxOutput: 1 << 10, Env: []string{"SANDBOX_TEST_CHILD=spin"}}, self(t))
	if !errors.Is(err, ErrLimit) || !errors.Is(err, ErrTimeout) {
		t.Errorf("error = %v, want ErrLimit and ErrTimeout", err)
	}
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != -1 {
		t.Errorf("error = %v, want an ExitError naming the signal", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("killed after %v: the wall bound, not the CPU bound", took)
	}
	// The wall clock's kill is not a limit of the input's.
	_, err = Run(context.Background(), Limits{Timeout: 300 * time.Millisecond, CPU: 10 * time.Second, MaxOutput: 1 << 10}, "/bin/sleep", "30")
	if !errors.Is(err, ErrTimeout) || errors.Is(err, ErrLimit) {
		t.Errorf("wall timeout: error = %v, want ErrTimeout alone", err)
	}
}

func TestRunCallsASignalThatEndedTheChildALimit(t *testing.T) {
	// What a tool does when its allocation fails at the address-space
	// bound: abort.
	_, err := Run(context.Background(), Limits{Timeout: 5 * time.Second, MaxOutput: 1 << 10}, "/bin/sh", "-c", "echo cannot allocate >&2; kill -ABRT $$")
	var exit *ExitError
	if !errors.Is(err, ErrLimit) || errors.Is(err, ErrTimeout) || !errors.As(err, &exit) || exit.Signal != "aborted" || exit.Stderr != "cannot allocate" {
		t.Errorf("error = %#v (%v), want ErrLimit wrapping the ExitError", err, err)
	}
	// An exit status is not a limit.
	if _, err := Run(context.Background(), Limits{Timeout: 5 * time.Second, MaxOutput: 1 << 10}, "/bin/sh", "-c", "exit 2"); errors.Is(err, ErrLimit) {
		t.Errorf("exit status 2: %v, want no ErrLimit", err)
	}
}

func TestRunGivesDirStdinAndStderr(t *testing.T) {
	dir := t.TempDir()
	res, err := Run(context.Background(), Limits{Timeout: 5 * time.Second, MaxOutput: 1 << 10, Dir: dir, Stdin: strings.NewReader("from stdin")},
		"/bin/sh", "-c", `pwd; cat; echo " said" >&2`)
	if err != nil || string(res.Stdout) != dir+"\nfrom stdin" || res.Stderr != "said" {
		t.Errorf("Run = %q, stderr %q, %v", res.Stdout, res.Stderr, err)
	}
}

func TestRunKillsWhatAChildLeftRunningWhenItExits(t *testing.T) {
	// A launcher that starts its worker in the background and exits 0, as
	// LibreOffice's soffice may.
	res, err := Run(context.Background(), Limits{Timeout: 5 * time.Second, MaxOutput: 1 << 10},
		"/bin/sh", "-c", `sleep 30 >/dev/null 2>&1 & echo $!`)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(res.Stdout)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the child's own child %d outlived the run", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
