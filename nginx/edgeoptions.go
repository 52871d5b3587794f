package nginx

import (
	"errors"
	"fmt"
	"net/url"

	"docplat/hotspot"
	"docplat/internal/envflag"
)

// EdgeOptions is how an app instance drives the nginx hot tiers in front
// of it.
type EdgeOptions struct {
	// Admins are the admin URLs of the hot tiers (http://, loopback or a
	// private address: requests are signed, the secret never sent).
	Admins []string
	// ReadTokenSecret signs per-document read tokens; nginx checks them
	// with the same secret. Empty: a random one, valid on this instance only.
	ReadTokenSecret string
	// MaxEntryBytes is the largest content pushed to the hot tier.
	MaxEntryBytes int64
}

// Bind declares the hot tier's flags onto o.
func (o *EdgeOptions) Bind(b *envflag.Set) {
	b.List(&o.Admins, "nginx-admin", "", "/", "comma-separated admin URLs of the nginx hot tiers (their --admin-listen, e.g. http://10.0.1.11:8081); requests are signed with --internal-secret, which is required; empty: no hot tier")
	b.String(&o.ReadTokenSecret, "read-token-secret", "", "secret signing per-document read tokens, shared with nginx (16+ characters); empty: a random one (tokens then work on this instance only)")
	b.Int64(&o.MaxEntryBytes, "hot-max-bytes", 1<<20, "largest content the nginx hot tier holds; larger hot documents stay on the app")
}

// Validate reports every setting out of bounds at once.
func (o EdgeOptions) Validate() error {
	var errs []error
	for _, u := range o.Admins {
		if pu, err := url.Parse(u); err != nil || pu.Scheme != "http" || pu.Host == "" {
			errs = append(errs, fmt.Errorf("Admins %q is not an http:// URL", u))
		}
	}
	if o.ReadTokenSecret != "" && len(o.ReadTokenSecret) < 16 {
		errs = append(errs, errors.New("ReadTokenSecret must be at least 16 characters"))
	}
	if o.MaxEntryBytes < 1 || o.MaxEntryBytes > 64<<20 {
		errs = append(errs, errors.New("MaxEntryBytes must be between 1 and 64 MiB"))
	}
	return errors.Join(errs...)
}

// Edges are the hot tiers at o.Admins, reached with the internal secret
// their admin endpoints check: as the promoter pushes to them and as the
// hit forwarder drains them.
func (o EdgeOptions) Edges(secret string) ([]hotspot.Edge, []hotspot.HitSource) {
	var edges []hotspot.Edge
	var hits []hotspot.HitSource
	for _, admin := range o.Admins {
		e := Edge{Client: &Client{Admin: admin, Secret: secret}}
		edges, hits = append(edges, e), append(hits, e)
	}
	return edges, hits
}
