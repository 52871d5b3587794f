package server

import (
	"time"

	"docplat/admission"
	"docplat/internal/envflag"
)

// Bind declares the HTTP layer's flags onto o.
func (o *Options) Bind(b *envflag.Set) {
	b.Bool(&o.SecureCookies, "secure-cookies", false, "mark session cookies Secure; set when clients reach docplat over HTTPS")
	o.Admission = admission.Defaults(0)
	b.Var(admissionValue{&o.Admission}, &o.Admission, "admission", "per-class admission limits overriding the defaults, class=concurrency/max-wait[/queue] separated by commas, e.g. search=2/250ms,write=4/1s (classes: read, login, write, search, admin; 0 lifts a limit); a request that would wait longer is refused 503 with Retry-After")
	b.List(&o.TrustedProxies, "trusted-proxies", "127.0.0.1,::1", "", "comma-separated IPs/CIDRs allowed to set X-Forwarded-For, e.g. the nginx in front; empty trusts none")
	b.Duration(&o.ReadTokenTTL, "read-token-ttl", 5*time.Minute, "life of a read token")
}

// admissionValue is the admission flag: overrides applied to the defaults.
type admissionValue struct{ c *admission.Config }

func (v admissionValue) String() string { return "" }

func (v admissionValue) Set(spec string) error {
	c, err := admission.Parse(spec, admission.Defaults(0))
	if err != nil {
		return err
	}
	*v.c = c
	return nil
}
