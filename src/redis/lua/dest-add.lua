-- Append a destination to an active stream's wanted list (streams/destinations.ts addDestination),
-- only once its worker has written the list, then tell the running job.
-- KEYS: state, destControl. ARGV: streamKey, destination JSON, max destinations.
-- Reply: 1 ok, -1 no such active stream, -2 list not known yet, -3 full.
if redis.call('HGET', KEYS[1], 'active') ~= 'true' then return -1 end
local cur = redis.call('HGET', KEYS[1], 'destinations')
if not cur then return -2 end
local list = cjson.decode(cur)
if #list >= tonumber(ARGV[3]) then return -3 end
table.insert(list, cjson.decode(ARGV[2]))
redis.call('HSET', KEYS[1], 'destinations', cjson.encode(list))
redis.call('PUBLISH', KEYS[2], ARGV[1])
return 1
