// A stream's lease: `sf:lease:{key}` = worker id with a TTL, renewed by the owner's heartbeat.
// An expired lease is how everyone else learns the owner died. Scripts: src/redis/lua/lease-*.lua.
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { defineScripts } from '../redis/index.js';

/** Take or renew the lease; false when another worker holds it. */
export async function holdLease(redis: Redis, streamKey: string, workerId: string, ttlMs: number): Promise<boolean> {
  return (await defineScripts(redis).leaseHold([keys.lease(streamKey)], [workerId, ttlMs])) === 1;
}

export async function releaseLease(redis: Redis, streamKey: string, workerId: string): Promise<void> {
  await defineScripts(redis).leaseRelease([keys.lease(streamKey)], [workerId]);
}
