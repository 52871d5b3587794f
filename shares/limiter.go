package shares

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisLimiter counts password guesses per link in Redis, so that every
// instance shares one budget: Burst guesses per Window, then refusal until
// the window ends.
type RedisLimiter struct {
	Client redis.Cmdable
	Burst  int64
	Window time.Duration
	Prefix string // key prefix; default "docplat:guess:"
}

// guess counts one guess; it answers 0 when allowed, else the window's
// remaining milliseconds. One script: the count and its expiry are set together.
var guess = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
  return ttl
end
return 0`)

func (l *RedisLimiter) key(k string) string {
	if l.Prefix == "" {
		return "docplat:guess:" + k
	}
	return l.Prefix + k
}

// Allow implements Limiter.
func (l *RedisLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	ms, err := guess.Run(ctx, l.Client, []string{l.key(key)}, l.Window.Milliseconds(), l.Burst).Int64()
	if err != nil {
		return false, 0, err
	}
	return ms == 0, time.Duration(ms) * time.Millisecond, nil
}

// Reset implements Limiter.
func (l *RedisLimiter) Reset(ctx context.Context, key string) error {
	return l.Client.Del(ctx, l.key(key)).Err()
}
