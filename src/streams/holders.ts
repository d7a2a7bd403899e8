// Is a lease's holder still alive? Its lease TTL says so within LEASE_TTL_MS; its Redis connection
// says so at once. A worker names its main connection after itself (`stream-fighter:worker:<id>`,
// namedConnection()), and when the process dies (SIGKILL, OOM, a crash) the kernel closes its
// sockets and Redis drops the client. The reconciler's watch (every 500 ms) asks CLIENT LIST for
// the holders of the leases it watches: a holder seen connected before and missing for
// GONE_AFTER_MS is dead, and its lease is dropped (only if it still holds it) so the stream is
// taken over now, not when the TTL runs out (issue 9: a worker SIGKILL cost 3 s of lease on air).
//   - Only holders once seen connected count: a worker of an older version (no name) or one on
//     another Redis view keeps the TTL path; a rolling upgrade never drops a live worker's lease.
//   - A live worker cut off from Redis for longer than GONE_AFTER_MS loses its lease, as it would
//     to the TTL a little later: its lease keeper sees another holder and stops its copy.
//   - A Redis that refuses CLIENT LIST (a managed service's ACL) turns the check off, said once.
import type { Redis } from 'ioredis';
import { log, errMessage } from '../logger.js';
import { releaseLock } from './lease.js';

const logger = log('STREAMING-TASK');

const PREFIX = 'stream-fighter:worker:';
/** Missing from CLIENT LIST this long (two watches or more): a blip of the connection is not death. */
export const GONE_AFTER_MS = 1000;

/** The connection name a worker's main Redis connection carries. */
export function namedConnection(workerId: string): string {
  return `${PREFIX}${workerId}`;
}

/** Worker ids with a named connection in a CLIENT LIST reply. */
export function connectedWorkers(clientList: string): Set<string> {
  const out = new Set<string>();
  for (const line of clientList.split('\n')) {
    const m = / name=(\S+)/.exec(line);
    if (m && m[1].startsWith(PREFIX)) out.add(m[1].slice(PREFIX.length));
  }
  return out;
}

export class HolderWatch {
  private readonly seen = new Set<string>();
  private readonly missingSince = new Map<string, number>();
  private off = false;

  constructor(private readonly redis: Redis) {}

  /**
   * Looks at the holders of `leases` (lease key → holder id) and drops the leases of the dead
   * ones; returns the lease keys dropped.
   */
  async reap(leases: Map<string, string>, now = Date.now()): Promise<string[]> {
    if (this.off || leases.size === 0) return [];
    let connected: Set<string>;
    try {
      connected = connectedWorkers(String(await this.redis.call('CLIENT', 'LIST', 'TYPE', 'normal')));
    } catch (err) {
      this.off = true;
      logger.warn(`CLIENT LIST refused (${errMessage(err)}): a dead worker's streams are taken over when its lease expires`);
      return [];
    }
    connected.forEach((id) => this.seen.add(id));
    if (this.seen.size > 10_000) this.seen.clear();
    const dropped: string[] = [];
    for (const holder of new Set(leases.values())) {
      if (connected.has(holder) || !this.seen.has(holder)) {
        this.missingSince.delete(holder);
        continue;
      }
      const since = this.missingSince.get(holder) ?? now;
      this.missingSince.set(holder, since);
      if (now - since < GONE_AFTER_MS) continue;
      const mine = [...leases].filter(([, h]) => h === holder).map(([k]) => k);
      logger.warn(`worker ${holder} is gone (its Redis connection closed ${now - since} ms ago): taking over its ${mine.length} stream(s) without waiting for its leases to expire`);
      for (const key of mine) {
        await releaseLock(this.redis, key, holder);
        dropped.push(key);
      }
      this.missingSince.delete(holder);
      this.seen.delete(holder);
    }
    return dropped;
  }
}
