-- Deletes up to 500 refresh tokens rotated before ARGV[2], with their
-- entries in their session's set; returns how many.
local p = ARGV[1]
local hashes = redis.call('ZRANGEBYSCORE', p .. 'rotated', '-inf', '(' .. ARGV[2], 'LIMIT', 0, 500)
for _, h in ipairs(hashes) do
  local sid = redis.call('HGET', p .. 'r:' .. h, 'session')
  if sid then redis.call('SREM', p .. 'sr:' .. sid, h) end
  redis.call('DEL', p .. 'r:' .. h)
  redis.call('ZREM', p .. 'rotated', h)
end
return #hashes
