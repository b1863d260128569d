-- Revokes session ARGV[2] if active and (when ARGV[4] is set) owned by
-- ARGV[4], logs and announces it; returns its owner, or false.
local key = ARGV[1] .. 's:' .. ARGV[2]
local owner = redis.call('HGET', key, 'user_id')
if not owner or redis.call('HEXISTS', key, 'revoked_at') == 1 then return false end
if ARGV[4] ~= '' and owner ~= ARGV[4] then return false end
redis.call('HSET', key, 'revoked_at', ARGV[3])
redis.call('ZADD', ARGV[1] .. 'due', tonumber(ARGV[3]), ARGV[2])
redis.call('ZADD', ARGV[1] .. 'revoked', tonumber(ARGV[3]), ARGV[2])
redis.call('PUBLISH', ARGV[1] .. 'revocations', ARGV[2])
return owner
