// A stream's lease: `sf:lease:{key}` = worker id with a TTL, renewed by the owner's heartbeat.
// An expired lease is how everyone else learns the owner died.
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';

const RENEW = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/** Take or renew the lease; false when another worker holds it. */
export async function holdLease(redis: Redis, streamKey: string, workerId: string, ttlMs: number): Promise<boolean> {
  return (await redis.eval(RENEW, 1, keys.lease(streamKey), workerId, ttlMs)) === 1;
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export async function releaseLease(redis: Redis, streamKey: string, workerId: string): Promise<void> {
  await redis.eval(RELEASE, 1, keys.lease(streamKey), workerId);
}
