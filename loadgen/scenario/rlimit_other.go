//go:build !unix

package scenario

import "errors"

// RaiseFileLimit is not available on this platform.
func RaiseFileLimit() (soft, hard uint64, err error) {
	return 0, 0, errors.New("raising RLIMIT_NOFILE is not supported on this platform")
}
