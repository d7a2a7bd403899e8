-- Remove a destination by id from an active stream's wanted list (streams/destinations.ts
-- removeDestination), then tell the running job. Lua's cjson writes {} for an empty table: '[]'.
-- KEYS: state, destControl. ARGV: streamKey, destination id.
-- Reply: 1 ok, -1 no such active stream, -4 no such id.
if redis.call('HGET', KEYS[1], 'active') ~= 'true' then return -1 end
local cur = redis.call('HGET', KEYS[1], 'destinations')
if not cur then return -4 end
local list, kept, found = cjson.decode(cur), {}, false
for _, d in ipairs(list) do
  if d.id == ARGV[2] then found = true else table.insert(kept, d) end
end
if not found then return -4 end
redis.call('HSET', KEYS[1], 'destinations', #kept == 0 and '[]' or cjson.encode(kept))
redis.call('PUBLISH', KEYS[2], ARGV[1])
return 1
