-- Set this node's viewer counts to its truth (realtime/cluster.ts). Needs cluster-common.lua.
-- Corrects drift (a lost reply, a Redis restart); re-adds only registered socket streams.
-- KEYS[1] streams, KEYS[2] viewers, KEYS[3] this node's viewers.
-- ARGV[1] channel, then stream key/count pairs. Returns 1.
local want = {}
for i = 2, #ARGV, 2 do want[ARGV[i]] = tonumber(ARGV[i + 1]) end
local function apply(k, d)
  local total = redis.call('HINCRBY', KEYS[2], k, d)
  if total <= 0 then redis.call('HDEL', KEYS[2], k); total = 0 end
  publishViewers(ARGV[1], k, total)
end
local have = redis.call('HGETALL', KEYS[3])
local seen = {}
for i = 1, #have, 2 do
  local k, old = have[i], tonumber(have[i + 1])
  local new = want[k] or 0
  seen[k] = true
  if new ~= old then
    if new <= 0 then redis.call('HDEL', KEYS[3], k) else redis.call('HSET', KEYS[3], k, new) end
    apply(k, new - old)
  end
end
for k, n in pairs(want) do
  if not seen[k] and n > 0 and redis.call('HEXISTS', KEYS[1], k) == 1 then
    redis.call('HSET', KEYS[3], k, n)
    apply(k, n)
  end
end
return 1
