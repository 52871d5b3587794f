package nginx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Binary is the nginx executable Start runs.
var Binary = "/usr/sbin/nginx"

// Process is an nginx master started by Start, run as a child in the
// foreground (daemon off) so that it is stopped by its PID and dies with
// its parent.
type Process struct {
	Prefix string
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // the child's exit status, once done is closed
	stop   sync.Once
}

// Available reports whether nginx with the Lua module is installed
// (scripts/nginx-install.sh installs it).
func Available() error {
	if _, err := os.Stat(Binary); err != nil {
		return fmt.Errorf("nginx not found at %s (run scripts/nginx-install.sh)", Binary)
	}
	for _, f := range []string{"/usr/lib/nginx/modules/ngx_http_lua_module.so", "/usr/share/lua/5.1/resty/core.lua",
		"/usr/share/lua/5.1/resty/lrucache.lua", "/usr/lib/x86_64-linux-gnu/lua/5.1/cjson.so"} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%s is missing (run scripts/nginx-install.sh)", f)
		}
	}
	return nil
}

// Start runs nginx on a prefix written by Render and returns once the
// master has bound its listeners (it writes its pid file after that), or
// with the error log's tail if it exits first. Cancelling ctx stops it.
func Start(ctx context.Context, prefix string) (*Process, error) {
	abs, err := filepath.Abs(prefix)
	if err != nil {
		return nil, err
	}
	pidFile := filepath.Join(abs, "logs", "nginx.pid")
	_ = os.Remove(pidFile)
	cmd := exec.Command(Binary, "-p", abs+"/", "-c", filepath.Join(abs, "conf", "nginx.conf"),
		"-e", filepath.Join(abs, "logs", "error.log"), "-g", "daemon off;")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// SIGTERM is nginx's fast shutdown: the master takes its workers down.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("nginx: starting %s: %w", Binary, err)
	}
	p := &Process{Prefix: abs, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	want := strconv.Itoa(cmd.Process.Pid)
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(pidFile); err == nil && string(bytes.TrimSpace(b)) == want {
			break
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("nginx exited at start (%v): %s%s", p.err, stderr.String(), tail(filepath.Join(abs, "logs", "error.log")))
		case <-deadline.C:
			p.Stop()
			return nil, errors.New("nginx: no pid file after 10s")
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
	go func() {
		select {
		case <-ctx.Done():
			p.Stop()
		case <-p.done:
		}
	}()
	return p, nil
}

// Pid is the master's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Reload asks the master to re-read its config (SIGHUP), e.g. after Render.
func (p *Process) Reload() error { return p.cmd.Process.Signal(syscall.SIGHUP) }

// Stop shuts nginx down gracefully (SIGQUIT: in-flight requests finish),
// then forcefully after 5s, and waits for the master to exit.
func (p *Process) Stop() error {
	p.stop.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(2 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
	})
	return nil
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\nerror.log: " + string(b)
}
