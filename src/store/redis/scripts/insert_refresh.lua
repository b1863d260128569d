-- Stores refresh token ARGV[3] for session ARGV[2], expiring with it.
local skey = ARGV[1] .. 's:' .. ARGV[2]
local ttl = redis.call('TTL', skey)
if ttl < 0 then ttl = tonumber(ARGV[5]) end
local rkey = ARGV[1] .. 'r:' .. ARGV[3]
redis.call('HSET', rkey, 'session', ARGV[2], 'created_at', ARGV[4])
redis.call('EXPIRE', rkey, ttl)
redis.call('SADD', ARGV[1] .. 'sr:' .. ARGV[2], ARGV[3])
redis.call('EXPIRE', ARGV[1] .. 'sr:' .. ARGV[2], ttl)
return 1
