-- `GET t:{hash}` then `HGETALL s:{id}`, in one round trip.
local id = redis.call('GET', ARGV[1] .. 't:' .. ARGV[2])
if not id then return false end
return {id, redis.call('HGETALL', ARGV[1] .. 's:' .. id)}
