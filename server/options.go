package server

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Validate reports every setting an operator sets that is out of bounds.
func (o Options) Validate() error {
	var errs []error
	for _, p := range o.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			errs = append(errs, fmt.Errorf("TrustedProxies lists %q, which is neither an IP nor a CIDR", p))
		}
	}
	if o.ReadTokenTTL < time.Second || o.ReadTokenTTL > 24*time.Hour {
		errs = append(errs, errors.New("ReadTokenTTL must be between 1s and 24h"))
	}
	return errors.Join(errs...)
}
