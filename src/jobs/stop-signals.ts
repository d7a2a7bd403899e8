// The one place that gathers what stops a running stream. Five sources:
//   - the fast channel `sf:control` (the worker's subscriber calls `stop('requested')`),
//   - the parity key `streaming:stop_requested[:key]`, polled once a second,
//   - a lost lease (another worker holds it now),
//   - a deleted state hash, or one that another task owns now,
//   - the worker shutting down.
// A state hash that vanished because Redis restarted (its run_id changed) is no stop request:
// the job writes its state back and goes on.
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { log } from '../logger.js';
import { holdLease } from '../streams/lease.js';

const logger = log('STREAMING-TASK');

/**
 * Why a stream stops; a stream that lost its lease or its hash leaves its state to the new owner.
 * `render thread lost`: its thread crashed (with every stream on it): it stays requested, and the
 * worker enqueues it again at once (the runtime), or the reconciler does if it crashed soon after its start.
 */
export type StopReason = 'requested' | 'shutdown' | 'rebalance' | 'state removed' | 'replaced by another task' | 'lease lost' | 'failed' | 'render thread lost';

export function handedOver(reason: string): boolean {
  return reason === 'lease lost' || reason === 'replaced by another task';
}

/** Reasons that end the request itself (the stream is stopped, not moved to another worker). */
export function endsRequest(reason: string): boolean {
  return reason === 'requested' || reason === 'state removed' || reason === 'failed';
}

/** Redis's run_id changes when the server restarts. */
export async function serverRunId(redis: Redis): Promise<string> {
  return /run_id:(\w+)/.exec(await redis.info('server'))?.[1] ?? '';
}

export interface StopSignalsOptions {
  redis: Redis;
  streamKey: string;
  taskId: string;
  workerId: string;
  leaseTtlMs: number;
  /** For the log: the stream key, redacted. */
  who: string;
  /** Rewrites the stream's keys after a Redis restart lost them. */
  restore(): Promise<void>;
}

export class StopSignals {
  private reasonText = '';
  private wake: () => void = () => {};
  /** Resolves at the first stop, whatever its source. */
  readonly stopped = new Promise<void>((r) => (this.wake = r));
  private runId = '';
  private polls = 0;

  constructor(private readonly o: StopSignalsOptions) {}

  /** The first stop's reason; '' while running. */
  get reason(): string {
    return this.reasonText;
  }

  /** Stop once; later calls keep the first reason. */
  stop(reason: StopReason): void {
    if (this.reasonText) return;
    this.reasonText = reason;
    logger.info(`stop of ${this.o.who} (${reason})`);
    this.wake();
  }

  /** Remember which Redis server holds the state, to tell a restart from a deletion. */
  async init(): Promise<void> {
    this.runId = await serverRunId(this.o.redis);
  }

  /** Listen to the pushed sources (fast channel, shutdown); returns the unsubscribe. */
  listen(onControl: (streamKey: string, stop: (reason: string) => void) => () => void, shuttingDown: Promise<void>): () => void {
    const off = onControl(this.o.streamKey, () => this.stop('requested'));
    shuttingDown.then(() => this.stop('shutdown'));
    return off;
  }

  /** The polled sources (parity key, state hash, lease), once a second; true when one of them stopped the stream. */
  async poll(): Promise<boolean> {
    const { redis, streamKey, taskId } = this.o;
    const [stopKey, owner] = await Promise.all([redis.exists(keys.stopRequested(streamKey)), redis.hget(keys.state(streamKey), 'task_id')]);
    if (stopKey) return this.fire('requested');
    this.polls += 1;
    if (!owner) {
      const runId = await serverRunId(redis);
      if (runId === this.runId) return this.fire('state removed');
      this.runId = runId;
      logger.warn(`Redis restarted: restoring the state of ${this.o.who}`);
      await this.o.restore();
    } else if (owner !== taskId) return this.fire('replaced by another task');
    else if (this.polls % 5 === 0) {
      // The reconciler may have written the state back first (from the requested streams,
      // without this worker's fields): a changed run id says Redis restarted under us.
      const runId = await serverRunId(redis);
      if (runId !== this.runId) {
        this.runId = runId;
        logger.warn(`Redis restarted: restoring the state of ${this.o.who}`);
        await this.o.restore();
      }
    }
    if (!(await holdLease(redis, streamKey, this.o.workerId, this.o.leaseTtlMs))) return this.fire('lease lost');
    return false;
  }

  private fire(reason: StopReason): true {
    this.stop(reason);
    return true;
  }
}
