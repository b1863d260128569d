-- Deletes up to 500 sessions due by ARGV[2], with their index entries and
-- refresh tokens; returns how many.
local p = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', p .. 'due', '-inf', ARGV[2], 'LIMIT', 0, 500)
for _, id in ipairs(ids) do
  local key = p .. 's:' .. id
  local f = redis.call('HMGET', key, 'token_hash', 'user_id')
  if f[1] then redis.call('DEL', p .. 't:' .. f[1]) end
  if f[2] then redis.call('SREM', p .. 'u:' .. f[2], id) end
  for _, r in ipairs(redis.call('SMEMBERS', p .. 'sr:' .. id)) do
    redis.call('DEL', p .. 'r:' .. r)
    redis.call('ZREM', p .. 'rotated', r)
  end
  redis.call('DEL', key, p .. 'sr:' .. id)
  redis.call('ZREM', p .. 'due', id)
end
return #ids
