// Package testredis starts real redis-server processes for integration tests on
// free loopback ports and stops them by PID.
package testredis

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	defaultBinary = "/usr/bin/redis-server"
	startDeadline = 10 * time.Second
	maxAttempts   = 5
	logTailBytes  = 2048
)

// Node is one redis-server process.
type Node struct {
	addr    string
	dir     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd.Wait has returned
	argv    []string      // binary and arguments, for Restart

	stopOnce sync.Once
}

// Start launches n redis-server processes (each: --port P --bind 127.0.0.1 --save "" --appendonly no
// --daemonize no, a temp --dir from t.TempDir()), waits until each answers PING (deadline 10 s),
// and registers t.Cleanup to stop them. It fails the test (t.Fatalf) with a clear message if
// redis-server is missing.
func Start(t testing.TB, n int) []*Node {
	t.Helper()
	bin, err := findBinary()
	if err != nil {
		t.Fatalf("testredis: %v", err)
	}
	nodes := make([]*Node, 0, n)
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		var failures []string
		var node *Node
		for attempt := 1; attempt <= maxAttempts && node == nil; attempt++ {
			nd, err := startNode(bin, dir, nil)
			if err != nil {
				failures = append(failures, fmt.Sprintf("attempt %d: %v", attempt, err))
				continue
			}
			node = nd
		}
		if node == nil {
			t.Fatalf("testredis: redis-server node %d/%d did not come up after %d attempts:\n%s",
				i+1, n, maxAttempts, strings.Join(failures, "\n"))
		}
		// Registered after t.TempDir, so it runs before the dir is removed.
		t.Cleanup(node.Stop)
		nodes = append(nodes, node)
	}
	return nodes
}

func findBinary() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	if st, err := os.Stat(defaultBinary); err == nil && !st.IsDir() {
		return defaultBinary, nil
	}
	return "", errors.New("redis-server not found in PATH or at " + defaultBinary +
		" (install it, e.g. apt-get install redis-server)")
}

// pickPort is freePort; tests replace it to force a port clash.
var pickPort = freePort

// freePort asks the kernel for a free loopback port. The port is released
// before redis-server binds it, so another process may grab it in between;
// Start retries on that.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, err
	}
	return port, nil
}

// startNode starts one redis-server in dir and waits until it answers. On
// failure the process is killed and the error carries the tail of its log.
func startNode(bin, dir string, extra []string) (*Node, error) {
	return startNodeOn(bin, dir, extra, pickPort)
}

func startNodeOn(bin, dir string, extra []string, pick func() (int, error)) (*Node, error) {
	port, err := pick()
	if err != nil {
		return nil, fmt.Errorf("pick free port: %w", err)
	}
	logPath := filepath.Join(dir, "redis-server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log file: %w", err)
	}
	args := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--dir", dir,
	}
	cmd := exec.Command(bin, append(args, extra...)...)
	cmd.Dir = dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("exec %s: %w", bin, err)
	}
	logf.Close() // the child holds its own descriptor
	nd := &Node{
		addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		dir:     dir,
		logPath: logPath,
		cmd:     cmd,
		exited:  make(chan struct{}),
		argv:    append([]string{bin}, cmd.Args[1:]...),
	}
	go func() {
		_ = cmd.Wait()
		close(nd.exited)
	}()

	if err := nd.waitReady(startDeadline); err != nil {
		nd.Stop()
		return nil, fmt.Errorf("redis-server on %s (pid %d): %v\n--- tail of %s ---\n%s",
			nd.addr, cmd.Process.Pid, err, logPath, tail(logPath, logTailBytes))
	}
	return nd, nil
}

// waitReady polls until the server on nd.addr answers and reports our PID
// (so a server of someone else that grabbed the port is not mistaken for
// ours), or the process exits, or the deadline passes.
func (nd *Node) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		select {
		case <-nd.exited:
			return fmt.Errorf("process exited before answering PING (%s)", nd.cmd.ProcessState)
		default:
		}
		pid, err := serverPID(nd.addr, 250*time.Millisecond)
		if err == nil {
			if pid == nd.PID() {
				return nil
			}
			lastErr = fmt.Errorf("port %s is answered by another redis-server (pid %d)", nd.addr, pid)
		} else {
			lastErr = err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PING answer within %v: %v", timeout, lastErr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverPID sends PING and INFO server over a raw connection and returns the
// server's process_id.
func serverPID(addr string, timeout time.Duration) (int, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"); err != nil {
		return 0, err
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return 0, fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	line, err = r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "$") {
		return 0, fmt.Errorf("INFO answered %q", line)
	}
	size, err := strconv.Atoi(line[1:])
	if err != nil || size < 0 {
		return 0, fmt.Errorf("INFO answered %q", line)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("INFO server has no process_id")
}

// tail returns up to the last n bytes of the file at path.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	off := st.Size() - n
	if off < 0 {
		off = 0
	}
	b := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	if len(b) == 0 {
		return "(log is empty)"
	}
	return string(b)
}

// Addr is host:port.
func (n *Node) Addr() string { return n.addr }

// PID of the process.
func (n *Node) PID() int { return n.cmd.Process.Pid }

// Dir is the node's working directory (holds its log file).
func (n *Node) Dir() string { return n.dir }

// Stop kills the process (SIGKILL, like a crash) and waits for it to exit; idempotent.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		select {
		case <-n.exited:
			return
		default:
		}
		// The process is only reaped by our Wait goroutine, so the PID cannot
		// have been reused while exited is still open.
		_ = n.cmd.Process.Signal(syscall.SIGKILL)
		<-n.exited
	})
}

// Restart starts a stopped node again with the same port, directory and
// arguments (a cluster node rejoins with its nodes.conf; after a failover
// it comes back as a replica). Not safe concurrently with the node's
// other methods.
func (n *Node) Restart() error {
	if n.Running() {
		return errors.New("testredis: Restart of a running node")
	}
	logf, err := os.OpenFile(n.logPath, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(n.argv[0], n.argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = n.dir, logf, logf
	setProcAttr(cmd)
	err = cmd.Start()
	logf.Close()
	if err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	n.cmd, n.exited, n.stopOnce = cmd, exited, sync.Once{}
	if err := n.waitReady(startDeadline); err != nil {
		n.Stop()
		return fmt.Errorf("restart of %s: %v\n--- tail of %s ---\n%s", n.addr, err, n.logPath, tail(n.logPath, logTailBytes))
	}
	return nil
}

// Pause stops the process with SIGSTOP (a hung node: its connections stay
// open and nothing answers); Resume continues it.
func (n *Node) Pause() error { return n.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused process (SIGCONT).
func (n *Node) Resume() error { return n.cmd.Process.Signal(syscall.SIGCONT) }

// Running reports whether the process is alive.
func (n *Node) Running() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}
