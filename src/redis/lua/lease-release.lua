-- Drop a stream's lease only if this worker holds it (jobs/lease.ts releaseLease).
-- KEYS[1] lease key. ARGV[1] worker id. Returns 1 when deleted, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0
