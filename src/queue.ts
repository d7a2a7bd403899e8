// The one place bee-queues are built: shared Redis settings, logging, close with a bound.
import Queue from 'bee-queue';
import type { Redis } from 'ioredis';
import { log, errMessage } from './logger.js';
import { createRedis, quit } from './redis/client.js';
import { logOnce } from './redis/log-once.js';

const logger = log('QUEUE');

export interface QueueOptions {
  redisUrl: string;
  /** Key prefix of the queues in Redis (QUEUE_PREFIX). */
  prefix: string;
  /** Producers (web) say false: no job processing, no stall checks. */
  isWorker: boolean;
  /** Producers that wait for a job's result (diagnostics) need events. */
  getEvents?: boolean;
  /** How long a job's lock lives without renewal before it counts as stalled. */
  stallInterval?: number;
  /**
   * The process's command client (src/roles.ts): its reconnects tell the script watcher that
   * Redis may have restarted. Without it the watcher opens a client of its own (scripts, tests).
   */
  watch?: Redis;
}

function redisSettings(url: string) {
  return { url, retry_strategy: (o: { attempt: number }) => Math.min(o.attempt * 200, 2000) } as never;
}

// bee-queue loads its Lua scripts once, when a queue connects (`ensureScripts`); a Redis that
// restarts empty forgets them and every later call fails with NOSCRIPT, and bee-queue's own
// client reconnects without telling anyone. Scripts live per server, not per connection, so one
// watcher per Redis URL (shared by this process's queues) notices the reconnect and connects a
// throwaway producer queue, which loads them again through bee-queue's public API. The watcher
// listens to the process's command client; bee-queue's own connections are node_redis clients it
// opens itself, which is why the queues cannot share that client.
interface Watcher {
  client: Redis;
  /** The watcher opened `client` (and quits it); else it only listens to it. */
  owned: boolean;
  onReady: () => void;
  users: number;
  reloading: Promise<void> | null;
  reload(): Promise<void>;
}
const watchers = new Map<string, Watcher>();

/** Load bee-queue's scripts into the Redis at `url` (a no-op for those already there). */
export async function loadQueueScripts(url: string): Promise<void> {
  const q = new Queue('scripts', { redis: redisSettings(url), isWorker: false, getEvents: false, sendEvents: false, ensureScripts: true });
  q.on('error', () => {}); // ready() rejects with it
  try {
    await q.ready();
  } finally {
    await q.close().catch(() => {});
  }
}

function watch(url: string, shared?: Redis): Watcher {
  let w = watchers.get(url);
  if (w) {
    w.users += 1;
    return w;
  }
  const client = shared ?? createRedis(url, 'queue-scripts');
  // A shared client is ready already: its next `ready` is a reconnect.
  let connectedBefore = client.status === 'ready';
  const watcher: Watcher = {
    client,
    owned: !shared,
    onReady: () => {
      if (connectedBefore) void watcher.reload();
      connectedBefore = true;
    },
    users: 1,
    reloading: null,
    reload() {
      watcher.reloading ??= loadQueueScripts(url)
        .then(
          () => void logger.info('queue scripts reloaded into Redis'),
          (err) => void logger.warn(`reloading queue scripts: ${errMessage(err)}`),
        )
        .finally(() => {
          watcher.reloading = null;
        });
      return watcher.reloading ?? Promise.resolve();
    },
  };
  client.on('ready', watcher.onReady);
  watchers.set(url, (w = watcher));
  return w;
}

async function unwatch(url: string): Promise<void> {
  const w = watchers.get(url);
  if (!w || --w.users > 0) return;
  watchers.delete(url);
  w.client.off('ready', w.onReady);
  if (w.owned) await quit(w.client);
}

const closers = new WeakMap<object, () => Promise<void>>();

export function createQueue<T>(name: string, opts: QueueOptions): Queue<T> {
  const queue = new Queue<T>(name, {
    prefix: opts.prefix,
    redis: redisSettings(opts.redisUrl),
    isWorker: opts.isWorker,
    getEvents: opts.getEvents ?? false,
    sendEvents: true,
    storeJobs: opts.getEvents ?? false,
    removeOnSuccess: true,
    removeOnFailure: true,
    activateDelayedJobs: false,
    stallInterval: opts.stallInterval ?? 5000,
  });
  const watcher = watch(opts.redisUrl, opts.watch);
  let unwatched = false;
  closers.set(queue, async () => {
    if (unwatched) return;
    unwatched = true;
    await unwatch(opts.redisUrl);
  });
  const outage = logOnce({ warn: (msg) => logger.warn(`queue ${name}: ${msg}`), distinct: true });
  queue.on('error', (err) => {
    const msg = errMessage(err);
    // A worker that hands its streams over closes the start queue first, so the jobs that end
    // afterwards write nothing (their ids already belong to the re-enqueued tasks): expected.
    if (/^unable to update the status of \w+ job /.test(msg)) {
      logger.debug(`queue ${name}: ${msg} (queue closed for a hand-over)`);
      return;
    }
    outage.fail(msg);
    // A restart the watcher missed (it reconnected before noticing): reload now.
    if (msg.includes('NOSCRIPT')) void watcher.reload();
  });
  queue.on('ready', () => outage.ok());
  queue.on('failed', (job, err) => logger.warn(`queue ${name}: job ${job.id} failed: ${errMessage(err)}`));
  return queue;
}

/** bee-queue's close(timeout) rejects on timeout; shutdown only needs it to end. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function closeQueue(queue: Queue<any>, timeoutMs: number): Promise<void> {
  try {
    await queue.close(timeoutMs);
  } catch (err) {
    logger.warn(`queue ${queue.name}: close: ${errMessage(err)}`);
  }
  await closers.get(queue)?.();
}
