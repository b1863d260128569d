-- Sets `auth_at` and `conf_at` (a confirmation) of live session ARGV[2]
-- to ARGV[3]; 1 if it did.
local key = ARGV[1] .. 's:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 or redis.call('HEXISTS', key, 'revoked_at') == 1 then
  return 0
end
redis.call('HSET', key, 'auth_at', ARGV[3], 'conf_at', ARGV[3])
return 1
