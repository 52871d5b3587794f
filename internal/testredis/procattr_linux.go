package testredis

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel SIGKILL redis-server if the test binary dies
// without running its cleanups (e.g. killed by go test's -timeout), so no
// server is left behind.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
