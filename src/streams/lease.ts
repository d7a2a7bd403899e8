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

/** How often a lease of `ttlMs` is renewed: six times per TTL (500 ms for 3 s), so a stalled event loop has slack. */
export function renewEveryMs(ttlMs: number): number {
  return Math.max(100, Math.min(1000, Math.round(ttlMs / 6)));
}

/**
 * Keeps a stream's lease from the moment it is taken (before the pipeline starts, which can take
 * longer than a short TTL), independent of the heartbeat. `onLost` fires once when another
 * worker holds it; a Redis that does not answer is no loss (the stream goes on, it retries).
 */
export class LeaseKeeper {
  private timer?: NodeJS.Timeout;
  private lost = false;
  /** The renewal in flight (handOver() awaits it before it releases the lease). */
  inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly streamKey: string,
    private readonly workerId: string,
    private readonly ttlMs: number,
    private readonly onLost: () => void,
  ) {}

  start(): void {
    if (this.timer) return;
    let busy = false;
    this.timer = setInterval(() => {
      if (busy || this.lost) return;
      busy = true;
      this.inFlight = holdLease(this.redis, this.streamKey, this.workerId, this.ttlMs)
        .then((held) => {
          if (held || !this.timer) return;
          this.lost = true;
          this.onLost();
        })
        .catch(() => {})
        .finally(() => {
          busy = false;
        });
    }, renewEveryMs(this.ttlMs));
    this.timer.unref();
  }

  /** No more renewals; resolves once the one in flight is done. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}
