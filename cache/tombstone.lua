-- Invalidation: replace the entry with a tombstone carrying the new version,
-- unless something newer is already stored.
-- KEYS[1] entry key; ARGV[1] version, ARGV[2] encoded tombstone, ARGV[3] ttl (ms)
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(string.sub(cur, 1, 20)) > tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
