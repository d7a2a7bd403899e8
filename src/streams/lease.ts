// A stream's lease: `sf:lease:{key}` = worker id with a TTL, renewed by the owner's heartbeat.
// An expired lease is how everyone else learns the owner died. The same take-or-renew serves the
// cluster-wide locks (the reconciler's). Scripts: src/redis/lua/lease-*.lua (any key, any owner).
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { defineScripts } from '../redis/index.js';

/** Take or renew a lock held by `owner`; false when someone else holds it. */
export async function holdLock(redis: Redis, key: string, owner: string, ttlMs: number): Promise<boolean> {
  return (await defineScripts(redis).leaseHold([key], [owner, ttlMs])) === 1;
}

/** Take or renew the lease; false when another worker holds it. */
export async function holdLease(redis: Redis, streamKey: string, workerId: string, ttlMs: number): Promise<boolean> {
  return holdLock(redis, keys.lease(streamKey), workerId, ttlMs);
}

export async function releaseLock(redis: Redis, key: string, owner: string): Promise<void> {
  await defineScripts(redis).leaseRelease([key], [owner]);
}

export async function releaseLease(redis: Redis, streamKey: string, workerId: string): Promise<void> {
  await releaseLock(redis, keys.lease(streamKey), workerId);
}
