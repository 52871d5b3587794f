package stats

import (
	"errors"
	"fmt"
	"time"

	"docplat/events"
)

// Validate reports every setting out of bounds at once (zero values
// included: see sqlstore.Config.Validate).
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" && c.MySQLDSN == "" {
		errs = append(errs, errors.New("DataDir must not be empty: the embedded stats.db lives there"))
	}
	if c.MaxOpenConns < 2 || c.MaxOpenConns > 10000 {
		errs = append(errs, fmt.Errorf("MaxOpenConns must be between 2 and 10000"))
	}
	return errors.Join(errs...)
}

// Validate reports every setting out of bounds at once; Brokers may be
// empty (the caller fills them from an in-process broker).
func (c StreamConfig) Validate() error {
	var errs []error
	if err := events.ValidateBrokers(c.Brokers); err != nil {
		errs = append(errs, err)
	}
	if err := events.ValidateTopic(c.Topic); err != nil {
		errs = append(errs, err)
	}
	if c.SessionTimeout < 500*time.Millisecond || c.SessionTimeout > 5*time.Minute {
		errs = append(errs, errors.New("SessionTimeout must be between 500ms and 5m"))
	}
	if c.FlushInterval < 10*time.Millisecond || c.FlushInterval > time.Minute {
		errs = append(errs, errors.New("FlushInterval must be between 10ms and 1m"))
	}
	return errors.Join(errs...)
}
