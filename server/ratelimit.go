package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"docplat/accounts"
	"docplat/errs"
)

// loginLimiter slows password guessing: each (client IP, normalized
// username) pair gets a small burst and then one attempt every few seconds.
// Keying on the pair means a load test that logs in many users from one
// address is not throttled, while a guesser hammering one account is; the
// username is normalized as accounts does (accounts.NormalizeUsername), so
// padded or case-variant spellings share the bucket of the account they
// sign in to.
//
// With a shared Redis the buckets live there (one GCRA state per pair,
// updated by one atomic script), so any number of instances together allow
// one burst. When Redis does not answer, the limiter fails safe: each
// instance falls back to its own in-memory buckets (never to no limit).
type loginLimiter struct {
	shared redis.Scripter // nil: in-memory only
	local  *localLimiter
	every  time.Duration
	burst  int
	log    *slog.Logger
	warned atomic.Int64 // unix seconds of the last fallback warning
}

func newLoginLimiter(shared redis.Scripter, every time.Duration, burst int, log *slog.Logger) *loginLimiter {
	return &loginLimiter{shared: shared, local: newLocalLimiter(every, burst), every: every, burst: burst, log: log}
}

// allow reports whether an attempt may proceed, and if not, when to retry.
func (l *loginLimiter) allow(ctx context.Context, ip, username string) (bool, time.Duration) {
	key := loginKey(ip, username)
	if l.shared == nil {
		return l.local.allow(key)
	}
	wait, err := gcra.Run(ctx, l.shared, []string{"login:" + key}, l.every.Milliseconds(), l.burst).Int64()
	if err != nil {
		if now := time.Now().Unix(); now-l.warned.Load() >= 60 {
			l.warned.Store(now)
			l.log.Warn("login rate limiter: shared Redis failed; limiting per instance", "err", err)
		}
		return l.local.allow(key)
	}
	if wait > 0 {
		return false, time.Duration(wait) * time.Millisecond
	}
	return true, 0
}

// loginKey names the bucket of one client IP and account; hashed so that
// any username fits a Redis key and none is stored in clear.
func loginKey(ip, username string) string {
	sum := sha256.Sum256([]byte(ip + "\x00" + accounts.NormalizeUsername(username)))
	return hex.EncodeToString(sum[:16])
}

// gcra is the generic cell rate algorithm over one key holding the
// theoretical arrival time (ms, Redis's clock, so instances' clocks do not
// matter): an attempt is allowed while that time is less than burst
// intervals ahead; it answers 0, or the milliseconds to wait.
var gcra = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local every = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowAt = tat + every - burst * every
if now < allowAt then return allowAt - now end
redis.call('SET', KEYS[1], tat + every, 'PX', tat + every - now)
return 0
`)

// localLimiter is the in-memory form: per instance.
type localLimiter struct {
	mu      sync.Mutex
	every   time.Duration
	burst   int
	entries map[string]*limiterEntry
	swept   time.Time
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLocalLimiter(every time.Duration, burst int) *localLimiter {
	return &localLimiter{every: every, burst: burst, entries: map[string]*limiterEntry{}}
}

func (l *localLimiter) allow(key string) (bool, time.Duration) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute { // forget idle pairs so the map stays small
		for k, e := range l.entries {
			if now.Sub(e.seen) > time.Duration(l.burst)*l.every {
				delete(l.entries, k)
			}
		}
		l.swept = now
	}
	e := l.entries[key]
	if e == nil {
		e = &limiterEntry{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.entries[key] = e
	}
	e.seen = now
	r := e.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (s *Server) rateLimited(c *gin.Context, retry time.Duration) {
	c.Header("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
	abort(c, errs.RateLimited, "too many login attempts; retry in "+retry.Round(time.Second).String())
}
