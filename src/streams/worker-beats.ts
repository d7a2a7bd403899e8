// A worker's heartbeat record, `sf:worker:{id}` (JSON, TTL HEARTBEAT_TTL_SECONDS), beside its
// score in `sf:workers`: written by the worker runtime every 3 s, read by /api/health and the
// dashboard. One owner for both sides. Issue 13 adds the worker's capacity to it, which the web
// role reads to answer a start at once (roomFor) and a worker to find where to hand a stream.
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';

/** The reason a stream waits when no worker has room (state hash `last_error`, the API's 202 and 503). */
export const NO_CAPACITY = 'no capacity';

export interface WorkerCapacity {
  /** measured: admission by the CPU headroom; off: WORKER_CONCURRENCY alone. */
  mode: 'measured' | 'off';
  /** More streams this worker can take now. */
  headroom: number;
  cores: number;
  /** Cores left for new streams after the safety margin (null until measured; negative: overcommitted). */
  cpuAvailable: number | null;
  /** Cores the machine's other processes take (a noisy neighbour, other workers). */
  othersCores: number | null;
  /** Cores one stream costs (measured, configured, or the default). */
  costPerStream: number;
  /** Cores one more stream adds to the machine's other processes (learned; null until a stream came or went). */
  othersPerStream?: number | null;
  /** 0 full rate; 1 previews slowed; 2 scene effects off too; 3-5 every broadcast rendered at a lower rate (jobs/shed-ladder.ts). */
  shedLevel: number;
}

export interface WorkerBeat {
  pid: number;
  host: string;
  streams: number;
  /** ms epoch */
  at: number;
  capacity?: WorkerCapacity;
}

export async function writeBeat(redis: Redis, workerId: string, beat: WorkerBeat, ttlSeconds: number): Promise<void> {
  await redis
    .multi()
    .zadd(keys.workers(), beat.at, workerId)
    .set(keys.worker(workerId), JSON.stringify(beat), 'EX', ttlSeconds)
    .zremrangebyscore(keys.workers(), 0, beat.at - 3600_000)
    .exec();
}

/** The live workers' records (fresh score and an unexpired record), by id. */
export async function readBeats(redis: Redis, ttlSeconds: number, now = Date.now()): Promise<Array<WorkerBeat & { id: string }>> {
  const ids = await redis.zrangebyscore(keys.workers(), now - ttlSeconds * 1000, '+inf');
  if (!ids.length) return [];
  const raw = await redis.mget(...ids.map((id) => keys.worker(id)));
  const out: Array<WorkerBeat & { id: string }> = [];
  raw.forEach((r, i) => {
    if (!r) return;
    try {
      out.push({ ...(JSON.parse(r) as WorkerBeat), id: ids[i] });
    } catch {
      /* a record from an older version: skip it */
    }
  });
  return out;
}

/**
 * Does a live worker advertise room for one more stream (headroom ≥ 1 in its heartbeat)? A beat
 * without a capacity record (a worker from before issue 13) counts as room: it takes jobs by
 * WORKER_CONCURRENCY alone. No live worker: no room.
 */
export async function clusterHasRoom(redis: Redis, ttlSeconds: number, now = Date.now()): Promise<boolean> {
  return (await readBeats(redis, ttlSeconds, now)).some((b) => !b.capacity || b.capacity.headroom >= 1);
}
