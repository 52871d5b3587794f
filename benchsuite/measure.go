package benchsuite

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"docplat/loadgen"
)

// timed runs run and samples the watched processes' CPU over its recorded
// window: from warmup after the start (loadgen's and ClosedLoop's measure
// start) to its return.
func (r *runner) timed(warmup time.Duration, run func() (*loadgen.Result, error)) (*loadgen.Result, *CPU, error) {
	first := make(chan cpuSample, 1)
	stop := make(chan struct{})
	go func() {
		select {
		case <-time.After(warmup):
		case <-stop:
		}
		first <- r.cpu.sample()
	}()
	res, err := run()
	close(stop)
	a := <-first
	b := r.cpu.sample()
	if err != nil || res == nil {
		return res, nil, err
	}
	c := newCPU(a, b, res.Successes)
	c.AboveIdle = c.aboveIdle(r.rep.IdleCPU)
	if r.sharedDB {
		c.Note = "MariaDB is the machine's shared server: other clients' queries in the window count too"
	}
	return res, c, nil
}

// startNetHTTP builds and starts benchsuite/nethttpd serving file on a
// free loopback port, watched as "nethttpd"; stop ends it by its PID.
func (r *runner) startNetHTTP(ctx context.Context, file string) (url string, stop func(), err error) {
	bin := filepath.Join(r.c.Dir, "nethttpd")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./benchsuite/nethttpd")
	build.Dir = r.c.Repo
	if out, err := build.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("building nethttpd: %w\n%s", err, out)
	}
	cmd := exec.Command(bin, "127.0.0.1:0", file)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		r.cpu.remove(cmd.Process.Pid)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		stop()
		return "", nil, fmt.Errorf("nethttpd did not start: %q %v", line, err)
	}
	r.cpu.add(cmd.Process.Pid, "nethttpd")
	return "http://" + addr + "/", stop, nil
}

// idle measures the cluster's CPU over window with no load at all.
func (r *runner) idle(ctx context.Context, window time.Duration) {
	a := r.cpu.sample()
	select {
	case <-ctx.Done():
	case <-time.After(window):
	}
	r.rep.IdleCPU = newCPU(a, r.cpu.sample(), 0)
	r.log.Info("idle cluster", "cpu_s_per_s", r.rep.IdleCPU.IdleRate(), "window", window)
}
