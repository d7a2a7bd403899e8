-- Update state fields only while the hash is still the given task's (jobs/state.ts updateState):
-- a stopped or taken-over stream must not be resurrected by a late write.
-- KEYS[1] state hash. ARGV[1] task id, then field/value pairs. Returns 1 when written, else 0.
if redis.call('HGET', KEYS[1], 'task_id') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
