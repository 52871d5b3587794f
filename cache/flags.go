package cache

import (
	"time"

	"docplat/internal/envflag"
)

// Bind declares the cache's flags onto o. An L1 budget of 0 turns L1 off
// (see Flagged).
func (o *Options) Bind(b *envflag.Set) {
	b.Int(&o.L1MB, "cache-l1-mb", 256, "in-process L1 cache budget in MiB (bigcache HardMaxCacheSize); 0 turns L1 off")
	b.Duration(&o.L1TTL, "cache-l1-ttl", time.Minute, "freshness of L1 entries (invalidations usually end them sooner)")
	b.Duration(&o.L2TTL, "cache-l2-ttl", 10*time.Minute, "freshness of L2 entries, jittered ±10%")
	b.Duration(&o.StaleFor, "cache-stale-for", 30*time.Second, "when the database fails, L1 entries may be served this long past freshness; 0 disables")
}

// Flagged is o as New takes it when it was filled by Bind: the flag's L1
// budget of 0 means L1 off.
func (o Options) Flagged() Options {
	if o.L1MB == 0 {
		o.L1MB, o.DisableL1 = 1, true
	}
	return o
}
