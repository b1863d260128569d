-- Revokes every active session of user ARGV[2] except ARGV[4], logs and
-- announces each; returns their ids.
local revoked = {}
local index = ARGV[1] .. 'u:' .. ARGV[2]
for _, id in ipairs(redis.call('SMEMBERS', index)) do
  local key = ARGV[1] .. 's:' .. id
  if redis.call('EXISTS', key) == 0 then
    -- Expired by its key's TTL before the purge saw it: drop the entry.
    redis.call('SREM', index, id)
  elseif id ~= ARGV[4] and redis.call('HEXISTS', key, 'revoked_at') == 0 then
    redis.call('HSET', key, 'revoked_at', ARGV[3])
    redis.call('ZADD', ARGV[1] .. 'due', tonumber(ARGV[3]), id)
    redis.call('ZADD', ARGV[1] .. 'revoked', tonumber(ARGV[3]), id)
    redis.call('PUBLISH', ARGV[1] .. 'revocations', id)
    table.insert(revoked, id)
  end
end
return revoked
