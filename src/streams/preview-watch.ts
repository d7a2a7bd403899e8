// Who watches a stream's previews, the one owner of `sf:preview:watched:{key}` (issue 14):
// a web node that serves the previews to anyone (SSE clients, socket.io viewers of a relayed
// stream) sets the key with a short TTL and refreshes it while they stay; the worker reads the
// keys of its streams once a second and previews the unwatched ones at PREVIEW_IDLE_FPS
// (jobs/preview-rates.ts). A node that dies without a word stops refreshing: the key lapses.
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { log, errMessage } from '../logger.js';

const logger = log('STREAM-FEED');

/** How often a web node refreshes the keys of the streams it serves. */
export const WATCH_REFRESH_MS = 2000;
/** Their TTL: two refreshes may fail (a slow Redis) before a stream counts as unwatched. */
export const WATCH_TTL_MS = 3 * WATCH_REFRESH_MS;

/** Mark these streams watched for the next WATCH_TTL_MS (one round trip). */
export async function markWatched(redis: Redis, streamKeys: readonly string[]): Promise<void> {
  if (!streamKeys.length) return;
  const p = redis.pipeline();
  for (const k of streamKeys) p.set(keys.previewWatched(k), '1', 'PX', WATCH_TTL_MS);
  await p.exec();
}

/** Which of these streams someone watches now (one MGET, in their order). */
export async function readWatched(redis: Redis, streamKeys: readonly string[]): Promise<boolean[]> {
  if (!streamKeys.length) return [];
  const values = await redis.mget(streamKeys.map((k) => keys.previewWatched(k)));
  return values.map((v) => v !== null);
}

/**
 * The web side: keeps the keys of the streams this node serves (`served()`) alive, and marks a
 * stream at once when its first viewer arrives (`touch`), so its worker raises the rate within
 * its next check rather than after a refresh period.
 */
export class WatchMarker {
  private readonly timer: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly redis: Redis,
    private readonly served: () => string[],
  ) {
    this.timer = setInterval(() => void this.mark(this.served()), WATCH_REFRESH_MS);
    this.timer.unref();
  }

  touch(streamKey: string): Promise<void> {
    return this.mark([streamKey]);
  }

  private async mark(streamKeys: string[]): Promise<void> {
    if (!streamKeys.length || this.redis.status !== 'ready') return;
    try {
      await markWatched(this.redis, streamKeys);
      if (this.failing) logger.info('preview watch marks are written again');
      this.failing = false;
    } catch (err) {
      // Once per outage: the worst case is previews at the idle rate for viewers until it is back.
      if (!this.failing) logger.warn(`cannot mark watched previews (viewers may see the idle rate): ${errMessage(err)}`);
      this.failing = true;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
