-- Rotates refresh token ARGV[2] into ARGV[3] at time ARGV[4], only if it
-- belongs to session ARGV[5], is current and its session alive. Returns
-- {'ok', id}, {'rotated', id, when}, {'dead', id} or {'unknown'}.
local rkey = ARGV[1] .. 'r:' .. ARGV[2]
local sid = redis.call('HGET', rkey, 'session')
if not sid or sid ~= ARGV[5] then return {'unknown'} end
local rotated = redis.call('HGET', rkey, 'rotated_at')
if rotated then return {'rotated', sid, rotated} end
local now = tonumber(ARGV[4])
local s = redis.call('HMGET', ARGV[1] .. 's:' .. sid, 'revoked_at', 'idle_expires_at', 'expires_at')
if s[1] or not s[2] or tonumber(s[2]) <= now or tonumber(s[3]) <= now then
  return {'dead', sid}
end
redis.call('HSET', rkey, 'rotated_at', ARGV[4])
redis.call('ZADD', ARGV[1] .. 'rotated', now, ARGV[2])
local nkey = ARGV[1] .. 'r:' .. ARGV[3]
redis.call('HSET', nkey, 'session', sid, 'created_at', ARGV[4])
local ttl = redis.call('TTL', rkey)
if ttl > 0 then redis.call('EXPIRE', nkey, ttl) end
redis.call('SADD', ARGV[1] .. 'sr:' .. sid, ARGV[3])
return {'ok', sid}
