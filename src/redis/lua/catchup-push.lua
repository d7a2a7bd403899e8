-- One round trip per frame, payload sent once (realtime/catchup.ts RedisCatchup.push):
-- push + trim + expiry + publish.
-- KEYS[1] catch-up list. ARGV[1] encoded frame, ARGV[2] frames to keep, ARGV[3] TTL in ms,
-- ARGV[4] channel to publish the same bytes on ('' = none). Returns 1.
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[1]) end
return 1
