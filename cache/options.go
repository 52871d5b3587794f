package cache

import (
	"errors"
	"time"
)

// Validate reports the settings an operator sets that are out of bounds
// (L1MB 0 takes the default; the other fields are not checked).
func (o Options) Validate() error {
	var errs []error
	if o.L1MB < 0 || o.L1MB > 1<<20 {
		errs = append(errs, errors.New("L1MB must be between 0 and 1048576"))
	}
	if o.L1TTL < time.Second {
		errs = append(errs, errors.New("L1TTL must be at least 1s"))
	}
	if o.L2TTL < time.Second {
		errs = append(errs, errors.New("L2TTL must be at least 1s"))
	}
	if o.StaleFor < 0 {
		errs = append(errs, errors.New("StaleFor must not be negative"))
	}
	return errors.Join(errs...)
}
