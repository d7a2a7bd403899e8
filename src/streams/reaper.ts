// Keeps `streaming:active` and the health of unowned streams honest. A stream is never marked
// failed for lack of a worker: one with no live owner (no lease) for a few seconds shows
// `health=waiting` with the reason, and starts as soon as a worker is free (its job waits in the
// queue, or the reconciler enqueues it again). Runs in every web and worker process; every step
// is idempotent.
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { updateState } from './state.js';
import { log, redactKey } from '../logger.js';
import { every } from '../every.js';

const logger = log('STREAMING-TASK');

export const WAITING = 'waiting for a free worker';

/** A stream may be unowned this long (between its enqueue and a worker's claim) before it counts as waiting. */
const WAITING_AFTER_MS = 3000;

export async function reapOnce(redis: Redis, graceMs: number, now = Date.now()): Promise<string[]> {
  const waiting: string[] = [];
  for (const streamKey of await redis.smembers(keys.active())) {
    const [state, lease] = await Promise.all([redis.hgetall(keys.state(streamKey)), redis.exists(keys.lease(streamKey))]);
    if (!state.task_id || state.active !== 'true') {
      await redis.srem(keys.active(), streamKey);
      continue;
    }
    if (lease || state.health === 'waiting') continue;
    const heartbeat = Number(state.heartbeat_at ?? 0) * 1000;
    const queued = Math.max(Number(state.requested_at ?? 0), Number(state.queued_at ?? 0)) * 1000;
    // An owner that stopped heartbeating gets the grace (another worker may be taking over).
    if (heartbeat > queued ? now - heartbeat < graceMs : now - queued < WAITING_AFTER_MS) continue;
    const reason = state.worker_id && heartbeat > queued ? `worker ${state.worker_id} stopped heartbeating; ${WAITING}` : WAITING;
    if (await updateState(redis, streamKey, state.task_id, { health: 'waiting', last_error: reason })) {
      logger.warn(`stream ${redactKey(streamKey)}: ${reason}`);
      waiting.push(streamKey);
    }
  }
  return waiting;
}

export function startReaper(redis: Redis, graceMs: number, everyMs = 3000): () => void {
  return every(everyMs, () => reapOnce(redis, graceMs), {
    skipWhen: () => redis.status !== 'ready',
    onFail: (err) => logger.debug(`reaper: ${err}`),
  });
}
