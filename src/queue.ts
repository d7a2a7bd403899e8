// The one place bee-queues are built: shared Redis settings, logging, close with a bound.
import { createRequire } from 'node:module';
import Queue from 'bee-queue';
import { log, errMessage } from './logger.js';

const logger = log('QUEUE');

// bee-queue loads its Lua scripts once, at connect; a Redis that restarts forgets them and every
// later call fails with NOSCRIPT. Reload them whenever its command client reconnects.
const beeLua = createRequire(import.meta.url)('bee-queue/lib/lua') as { buildCache(client: unknown): Promise<unknown> };

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
}

export function createQueue<T>(name: string, opts: QueueOptions): Queue<T> {
  const queue = new Queue<T>(name, {
    prefix: opts.prefix,
    redis: { url: opts.redisUrl, retry_strategy: (o: { attempt: number }) => Math.min(o.attempt * 200, 2000) } as never,
    isWorker: opts.isWorker,
    getEvents: opts.getEvents ?? false,
    sendEvents: true,
    storeJobs: opts.getEvents ?? false,
    removeOnSuccess: true,
    removeOnFailure: true,
    activateDelayedJobs: false,
    stallInterval: opts.stallInterval ?? 5000,
  });
  let lastError = '';
  queue.on('error', (err) => {
    const msg = errMessage(err);
    // A worker that hands its streams over closes the start queue first, so the jobs that end
    // afterwards write nothing (their ids already belong to the re-enqueued tasks): expected.
    if (/^unable to update the status of \w+ job /.test(msg)) {
      logger.debug(`queue ${name}: ${msg} (queue closed for a hand-over)`);
      return;
    }
    if (msg !== lastError) logger.warn(`queue ${name}: ${msg}`);
    lastError = msg;
  });
  queue.on('ready', () => {
    lastError = '';
    const client = (queue as unknown as { client: import('node:events').EventEmitter }).client;
    client.on('ready', () => {
      beeLua.buildCache(client).catch((err) => logger.warn(`queue ${name}: reloading scripts: ${errMessage(err)}`));
    });
  });
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
}
