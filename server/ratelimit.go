package server

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"docplat/errs"
)

// loginLimiter slows password guessing: each (client IP, username) pair gets
// a small burst and then one attempt every few seconds. Keying on the pair
// means a load test that logs in many users from one address is not
// throttled, while a guesser hammering one account is.
type loginLimiter struct {
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

func newLoginLimiter(every time.Duration, burst int) *loginLimiter {
	return &loginLimiter{every: every, burst: burst, entries: map[string]*limiterEntry{}}
}

// allow reports whether an attempt may proceed, and if not, when to retry.
func (l *loginLimiter) allow(ip, username string) (bool, time.Duration) {
	key := ip + "\x00" + strings.ToLower(username)
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
