// A stream's lease: `sf:lease:{key}` = worker id with a TTL, renewed by the owner's heartbeat.
// An expired lease is how everyone else learns the owner died. The same take-or-renew serves
// the reconciler's cluster-wide lock (`sf:reconciler`).
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';

const RENEW = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/** Take or renew a lock held by `owner`; false when someone else holds it. */
export async function holdLock(redis: Redis, key: string, owner: string, ttlMs: number): Promise<boolean> {
  return (await redis.eval(RENEW, 1, key, owner, ttlMs)) === 1;
}

/** Take or renew the lease; false when another worker holds it. */
export async function holdLease(redis: Redis, streamKey: string, workerId: string, ttlMs: number): Promise<boolean> {
  return holdLock(redis, keys.lease(streamKey), workerId, ttlMs);
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export async function releaseLock(redis: Redis, key: string, owner: string): Promise<void> {
  await redis.eval(RELEASE, 1, key, owner);
}

export async function releaseLease(redis: Redis, streamKey: string, workerId: string): Promise<void> {
  await releaseLock(redis, keys.lease(streamKey), workerId);
}
