-- The DPoP key of session ARGV[2], set to ARGV[3] first if it has none and
-- ARGV[3] is not empty; nil for an unbound or unknown session.
local key = ARGV[1] .. 's:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 then return false end
if ARGV[3] ~= '' then redis.call('HSETNX', key, 'dpop_jkt', ARGV[3]) end
return redis.call('HGET', key, 'dpop_jkt')
