package accounts

import (
	"errors"
	"time"
)

// Validate reports a session lifetime out of bounds (zero included).
func (o Options) Validate() error {
	if o.SessionTTL < time.Minute {
		return errors.New("SessionTTL must be at least 1m")
	}
	return nil
}
