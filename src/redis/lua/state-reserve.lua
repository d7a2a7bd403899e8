-- Check-and-reserve a stream in one step (jobs/state.ts reserveStream), so two concurrent starts
-- cannot both pass the "is it active?" check.
-- KEYS[1] state hash, KEYS[2] stop-requested key, KEYS[3] active set.
-- ARGV[1] stream key, then field/value pairs of the new state.
-- Returns the current hash (flat) when the stream is already active, else false (nil).
if redis.call('HGET', KEYS[1], 'active') == 'true' then
  return redis.call('HGETALL', KEYS[1])
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[3], ARGV[1])
return false
