-- Slides activity on a live session and records where it was seen from
-- (ARGV[5] address, ARGV[6] agent; empty keeps the previous); keeps `due`
-- in step.
local key = ARGV[1] .. 's:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 or redis.call('HEXISTS', key, 'revoked_at') == 1 then
  return 0
end
redis.call('HSET', key, 'last_seen_at', ARGV[3], 'idle_expires_at', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', key, 'lip', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', key, 'lua', ARGV[6]) end
local abs = tonumber(redis.call('HGET', key, 'expires_at'))
redis.call('ZADD', ARGV[1] .. 'due', math.min(tonumber(ARGV[4]), abs), ARGV[2])
return 1
