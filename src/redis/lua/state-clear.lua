-- Remove a stream's keys if it is still the given task's (jobs/state.ts clearState). A failed
-- stream keeps its hash (active=false, health=failed) for an hour for diagnosis.
-- KEYS[1] state hash, KEYS[2] stop-requested key, KEYS[3] active set, KEYS[4] lease key,
-- KEYS[5] newest preview frame.
-- ARGV[1] task id, ARGV[2] stream key, ARGV[3] '1' = keep as failed, ARGV[4] now (unix seconds).
-- Returns 1 when cleared, 0 when another task owns the stream.
local owner = redis.call('HGET', KEYS[1], 'task_id')
if owner and owner ~= ARGV[1] then return 0 end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'active', 'false', 'health', 'failed', 'stopped_at', ARGV[4])
  redis.call('EXPIRE', KEYS[1], 3600)
else
  redis.call('DEL', KEYS[1])
end
redis.call('DEL', KEYS[2], KEYS[4], KEYS[5])
redis.call('SREM', KEYS[3], ARGV[2])
return 1
