-- Fenced fill: write a value into L2 only if the caller still holds its fill
-- lease and nothing newer (value or tombstone) is stored. Versions are the
-- first 20 characters of every stored entry.
-- KEYS[1] entry key, KEYS[2] lease key
-- ARGV[1] version, ARGV[2] encoded entry, ARGV[3] ttl (ms), ARGV[4] lease token, ARGV[5] "1" to fence
if redis.call('GET', KEYS[2]) ~= ARGV[4] then
  return -1
end
redis.call('DEL', KEYS[2])
if ARGV[5] == '1' then
  local cur = redis.call('GET', KEYS[1])
  if cur and tonumber(string.sub(cur, 1, 20)) > tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
