// Reconciles `streaming:active` with reality: a stream whose worker stopped heartbeating
// (lease expired) and that no other worker took over within the grace period is marked failed
// (active=false) with the reason; so are streams no worker picked up. Runs in every web and
// worker process; every step is idempotent.
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { clearState, updateState } from './state.js';
import { log, redactKey } from '../logger.js';
import { every } from '../every.js';

const logger = log('STREAMING-TASK');

export async function reapOnce(redis: Redis, graceMs: number, now = Date.now()): Promise<string[]> {
  const reaped: string[] = [];
  for (const streamKey of await redis.smembers(keys.active())) {
    const [state, lease] = await Promise.all([redis.hgetall(keys.state(streamKey)), redis.exists(keys.lease(streamKey))]);
    if (!state.task_id || state.active !== 'true') {
      await redis.srem(keys.active(), streamKey);
      continue;
    }
    if (lease) continue;
    const lastSign = Math.max(Number(state.heartbeat_at ?? 0), Number(state.requested_at ?? 0)) * 1000;
    if (now - lastSign < graceMs) continue;
    const reason = state.worker_id
      ? `worker ${state.worker_id} stopped heartbeating and no worker took the stream over`
      : `no worker picked the stream up within ${Math.round(graceMs / 1000)} s (are workers running, or all full?)`;
    await updateState(redis, streamKey, state.task_id, { last_error: reason });
    if (await clearState(redis, streamKey, state.task_id, 'worker-lost', { keepFailed: true })) {
      logger.warn(`stream ${redactKey(streamKey)} marked failed: ${reason}`);
      reaped.push(streamKey);
    }
  }
  return reaped;
}

export function startReaper(redis: Redis, graceMs: number, everyMs = 3000): () => void {
  return every(everyMs, () => reapOnce(redis, graceMs), {
    skipWhen: () => redis.status !== 'ready',
    onFail: (err) => logger.debug(`reaper: ${err}`),
  });
}
