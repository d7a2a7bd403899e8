-- One preview frame on the frame bus (streams/bus.ts publishFrame), payload sent once: kept as
-- the stream's newest frame for SSE clients that join, and published to those already there.
-- KEYS[1] newest-frame key. ARGV[1] encoded frame, ARGV[2] its TTL in ms, ARGV[3] channel.
-- Returns the number of subscribers that got it.
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('PUBLISH', ARGV[3], ARGV[1])
