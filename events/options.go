package events

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// ValidateTopic applies Kafka's rule for topic names. The error starts
// with "Topic" like the field it checks.
func ValidateTopic(t string) error {
	ok := t != "" && len(t) <= 249 && t != "." && t != ".."
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("Topic %q must be 1-249 characters of a-z A-Z 0-9 . _ -", t)
	}
	return nil
}

// ValidateBrokers reports brokers that are not host:port. The error starts
// with "Brokers" like the fields it checks.
func ValidateBrokers(brokers []string) error {
	var errs []error
	for _, b := range brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			errs = append(errs, fmt.Errorf("Brokers lists %q, which is not host:port", b))
		}
	}
	return errors.Join(errs...)
}

// Validate reports every setting out of bounds at once (zero values
// included: a configuration from an operator names every value).
func (c AggregatorConfig) Validate() error {
	var errs []error
	if c.Window < time.Millisecond || c.Window > 10*time.Second {
		errs = append(errs, errors.New("Window must be between 1ms and 10s"))
	}
	if c.BurstCount < 0 {
		errs = append(errs, errors.New("BurstCount must not be negative"))
	}
	if c.BurstInterval < time.Millisecond || c.BurstInterval > 10*time.Second {
		errs = append(errs, errors.New("BurstInterval must be between 1ms and 10s"))
	}
	return errors.Join(errs...)
}

// Validate reports every setting out of bounds at once.
func (c BrokerConfig) Validate() error {
	var errs []error
	if err := ValidateTopic(c.Topic); err != nil {
		errs = append(errs, err)
	}
	if c.Partitions < 1 || c.Partitions > 1024 {
		errs = append(errs, errors.New("Partitions must be between 1 and 1024"))
	}
	return errors.Join(errs...)
}
