-- End a socket stream (realtime/cluster.ts). Needs cluster-common.lua before it.
-- KEYS[1] streams, KEYS[2] viewers, KEYS[3] nodes.
-- ARGV[1] nvPrefix, ARGV[2] catchupPrefix, ARGV[3] channel, ARGV[4] stream key,
-- ARGV[5] sid ('' = any), ARGV[6] reason. Returns 1 when ended, 0 when not registered (or not that sid).
local raw = redis.call('HGET', KEYS[1], ARGV[4])
if not raw then return 0 end
if ARGV[5] ~= '' and cjson.decode(raw).sid ~= ARGV[5] then return 0 end
return endStream(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[6])
