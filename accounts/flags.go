package accounts

import (
	"time"

	"docplat/internal/envflag"
)

// Bind declares the account service's flags onto o.
func (o *Options) Bind(b *envflag.Set) {
	b.Duration(&o.SessionTTL, "session-ttl", 12*time.Hour, "lifetime of a login session")
}
