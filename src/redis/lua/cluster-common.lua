-- Shared by the cluster-*.lua scripts (prepended to each by src/redis/scripts.ts): end one socket
-- stream (registry, counts on every node, catch-up list) and say so.
-- NOTE: key names are built in Lua from prefixes (nvPrefix .. node, catchupPrefix .. key): fine on
-- a single Redis, not on Redis Cluster (the keys are not declared in KEYS).
local function publishViewers(channel, key, total)
  redis.call('PUBLISH', channel, cjson.encode({type='viewers', streamKey=key, count=total}))
end
local function endStream(streams, viewers, nodes, nvPrefix, catchupPrefix, channel, key, reason)
  local raw = redis.call('HGET', streams, key)
  if not raw then return 0 end
  local sid = cjson.decode(raw).sid
  redis.call('HDEL', streams, key)
  redis.call('HDEL', viewers, key)
  redis.call('DEL', catchupPrefix .. key)
  for _, n in ipairs(redis.call('HKEYS', nodes)) do redis.call('HDEL', nvPrefix .. n, key) end
  redis.call('PUBLISH', channel, cjson.encode({type='ended', streamKey=key, sid=sid, reason=reason}))
  return 1
end
