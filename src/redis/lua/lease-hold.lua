-- Take or renew a stream's lease (jobs/lease.ts holdLease).
-- KEYS[1] lease key. ARGV[1] worker id, ARGV[2] TTL in ms.
-- Returns 1 when this worker holds the lease now, 0 when another worker does.
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
