-- Take back a dead node's viewers and end the streams whose streamer was on it
-- (realtime/cluster.ts). Needs cluster-common.lua.
-- NOTE: reads ARGV[5] (alive key) and nvPrefix .. node, keys not declared in KEYS: not Redis
-- Cluster safe.
-- KEYS[1] streams, KEYS[2] viewers, KEYS[3] nodes.
-- ARGV[1] nvPrefix, ARGV[2] catchupPrefix, ARGV[3] channel, ARGV[4] node id, ARGV[5] alive key.
-- Returns 1 when reaped, 0 when the node is alive or unknown.
if redis.call('EXISTS', ARGV[5]) == 1 then return 0 end
local nv = ARGV[1] .. ARGV[4]
if redis.call('HEXISTS', KEYS[3], ARGV[4]) == 0 and redis.call('EXISTS', nv) == 0 then return 0 end
local h = redis.call('HGETALL', nv)
for i = 1, #h, 2 do
  local total = redis.call('HINCRBY', KEYS[2], h[i], -tonumber(h[i + 1]))
  if total <= 0 then redis.call('HDEL', KEYS[2], h[i]); total = 0 end
  publishViewers(ARGV[3], h[i], total)
end
redis.call('DEL', nv)
local s = redis.call('HGETALL', KEYS[1])
for i = 1, #s, 2 do
  if cjson.decode(s[i + 1]).node == ARGV[4] then
    endStream(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], s[i], 'streamer_node_lost')
  end
end
redis.call('HDEL', KEYS[3], ARGV[4])
return 1
