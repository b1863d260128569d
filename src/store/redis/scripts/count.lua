-- One count against a counter (`KEYS[1]`) at `ARGV[1]` (ms): a new window
-- of `ARGV[2]` ms if it has none or it ended. The key expires a second
-- after its window, so ended counters need no purge.
local now = tonumber(ARGV[1])
local ends = tonumber(redis.call('HGET', KEYS[1], 'e') or '0')
if ends <= now then
  ends = now + tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'n', 1, 'e', ends)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
  return {1, ends}
end
return {redis.call('HINCRBY', KEYS[1], 'n', 1), ends}
