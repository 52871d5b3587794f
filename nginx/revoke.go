package nginx

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"docplat/readtoken"
)

// UserRevoker revokes a user's read tokens at every nginx hot tier when
// the user's rights change (the accounts service's RightsChanged hook):
// a token proves rights the user had when it was issued, and nginx serves
// it without asking the app.
type UserRevoker struct {
	Clients []*Client
	// TokenTTL is the longest life of a read token (the apps'
	// --read-token-ttl); Slack widens the cutoff past the change's commit,
	// so that a revocation pushed before the commit (refusing the change
	// when nginx cannot take it) also covers tokens issued while the
	// commit is in flight.
	TokenTTL, Slack time.Duration
	Now             func() time.Time // nil: time.Now
}

// Revoker is the revoker of the tiers at o.Admins for tokens living ttl.
func (o EdgeOptions) Revoker(secret string, ttl time.Duration) *UserRevoker {
	r := &UserRevoker{TokenTTL: ttl, Slack: 10 * time.Second}
	for _, admin := range o.Admins {
		r.Clients = append(r.Clients, &Client{Admin: admin, Secret: secret})
	}
	return r
}

// RightsChanged returns once no nginx serves a token of userID issued
// before now, or the error of one that did not confirm it.
func (r *UserRevoker) RightsChanged(ctx context.Context, userID string) error {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	until := readtoken.RevocationCutoff(now(), r.TokenTTL+r.Slack)
	var errs []error
	for _, c := range r.Clients {
		err := c.RevokeUser(ctx, userID, until)
		if errors.Is(err, syscall.ECONNREFUSED) {
			// That nginx is down; when it starts it leaves every token
			// that may predate the start to the app (Config.ReadTokenTTL).
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Admin, err))
		}
	}
	return errors.Join(errs...)
}
