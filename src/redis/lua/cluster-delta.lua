-- Change a stream's viewer count by a delta (realtime/cluster.ts). Needs cluster-common.lua.
-- A join (+1) only counts for a stream that exists; a leave only undoes what this node counted.
-- KEYS[1] streams, KEYS[2] state hash of the key, KEYS[3] viewers, KEYS[4] this node's viewers.
-- ARGV[1] stream key, ARGV[2] delta, ARGV[3] channel. Returns the new total, -1 for no such stream.
local d = tonumber(ARGV[2])
if d > 0 then
  if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HGET', KEYS[2], 'active') ~= 'true' then return -1 end
else
  local mine = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')
  if mine <= 0 then return tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0') end
  if -d > mine then d = -mine end
end
if redis.call('HINCRBY', KEYS[4], ARGV[1], d) <= 0 then redis.call('HDEL', KEYS[4], ARGV[1]) end
local total = redis.call('HINCRBY', KEYS[3], ARGV[1], d)
if total <= 0 then redis.call('HDEL', KEYS[3], ARGV[1]); total = 0 end
publishViewers(ARGV[3], ARGV[1], total)
return total
