package sqlstore

import (
	"errors"
	"fmt"
)

// Validate reports every setting out of bounds at once. It checks a
// configuration as an operator gave it: zero values, which Open would
// replace by defaults, are reported too.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("DataDir must not be empty"))
	}
	if c.MaxOpenConns < 2 || c.MaxOpenConns > 10000 {
		errs = append(errs, fmt.Errorf("MaxOpenConns must be between 2 and 10000"))
	}
	return errors.Join(errs...)
}
