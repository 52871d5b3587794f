package hotspot

import (
	"errors"
	"time"
)

// Validate reports every problem of the detector's configuration and the
// lease at once (a zero Lease, which NewRunner defaults, included).
func (c RunnerConfig) Validate() error {
	var errs []error
	if err := c.Detector.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Lease < time.Second {
		errs = append(errs, errors.New("Lease must be at least 1s"))
	}
	return errors.Join(errs...)
}
