//go:build unix

package scenario

import "syscall"

// RaiseFileLimit raises the soft RLIMIT_NOFILE of this process to its hard
// limit (10,000 keep-alive connections need more descriptors than the usual
// soft limit of 1,024) and returns the limits now in force.
func RaiseFileLimit() (soft, hard uint64, err error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, err
	}
	if rl.Cur < rl.Max {
		raised := rl
		raised.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			return uint64(rl.Cur), uint64(rl.Max), err
		}
		rl = raised
	}
	return uint64(rl.Cur), uint64(rl.Max), nil
}
