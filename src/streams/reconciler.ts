// Makes Redis and the workers agree with the requested streams (PostgreSQL). One reconciler is
// active at a time across the cluster (the `sf:reconciler` lock, with a TTL, taken by whichever
// web or worker process gets it first); every few seconds it looks at each requested stream:
//   - its state hash is gone: stopped (the start job left a note) → forget it; else Redis lost
//     it → write the state back and enqueue the task again, same task id;
//   - its state is another task's, or failed for good → the row is stale, forget it;
//   - a live owner holds its lease → nothing to do;
//   - its job waits in the queue → it waits for a free worker (the reaper says so);
//   - its job was taken but no owner appeared within the grace (a worker died) or there is no
//     job at all (lost with Redis, handed over by a worker that died mid-way) → enqueue again.
// Between passes, a cheap watch (every WATCH_MS, Redis only) runs a pass at once when the lease
// of a requested stream is gone: a dead worker's streams are taken over as soon as its lease
// expires (LEASE_TTL_MS), not at the next pass; or sooner, when the holder's Redis connection
// has closed (holders.ts: a killed process).
import crypto from 'node:crypto';
import os from 'node:os';
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { log, errMessage, redactKey } from '../logger.js';
import { every } from '../every.js';
import type { JobSender } from './control.js';
import { holdLock, releaseLock } from './lease.js';
import { HolderWatch } from './holders.js';
import { endedReason, unrequest, type RequestedStreams } from './requested.js';
import { startPayload, type StartPayload } from './schema.js';
import { clearState, readState, restoreState, updateState } from './state.js';

const logger = log('STREAMING-TASK');

export interface ReconcilerOptions {
  redis: Redis;
  requested: RequestedStreams;
  jobs: JobSender;
  /** A taken job whose stream has no owner for this long counts as lost (a dead worker). */
  graceMs: number;
  /** Between passes (RECONCILE_SECONDS). */
  everyMs: number;
  /** Between the lease watches (default WATCH_MS); 0: no watch. */
  watchMs?: number;
  /**
   * RESUME_ON_START: false makes this process's first pass forget requested streams that no
   * live worker runs (they were left requested by the previous run), instead of resuming them.
   */
  resumeOnStart?: boolean;
  holderId?: string;
  /** QUEUE_PREFIX: one reconciler per set of queues (a deployment). */
  scope: string;
}

/** Between two looks at the leases of the requested streams (a few EXISTS, no PostgreSQL). */
export const WATCH_MS = 500;

export type Action = 'ok' | 'forgotten' | 'restored' | 'requeued' | 'queued' | 'dropped';

/** The state hash of a task that no worker has claimed yet (what startStream reserves). */
export function queuedState(p: StartPayload): Record<string, string | number> {
  return {
    active: 'true',
    task_id: p.taskId,
    fps: p.fps,
    quality: p.quality,
    stream_key: p.streamKey,
    screen_id: p.screenId,
    health: 'queued',
    requested_at: p.requestedAt,
    frames: 0,
    dropped: 0,
    restarts: 0,
    ...(p.broadcastFps ? { broadcast_fps: p.broadcastFps } : {}),
  };
}

export class Reconciler {
  readonly holderId: string;
  private first = true;
  private stopTimer: () => void = () => {};
  private stopWatch: () => void = () => {};
  /** The requested streams of the last pass that should have a lease (not waiting in the queue). */
  private watched: string[] = [];
  private lastPassAt = 0;
  private readonly holders: HolderWatch;

  constructor(private readonly o: ReconcilerOptions) {
    this.holderId = o.holderId ?? `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
    this.holders = new HolderWatch(o.redis);
  }

  start(): void {
    this.stopTimer = every(this.o.everyMs, () => this.tick(), {
      skipWhen: () => this.o.redis.status !== 'ready',
      onFail: (err) => logger.warn(`reconciler: ${errMessage(err)}`),
      onRecover: () => logger.info('reconciler: working again'),
    });
    const watchMs = this.o.watchMs ?? WATCH_MS;
    if (watchMs > 0 && watchMs < this.o.everyMs) {
      this.stopWatch = every(watchMs, () => this.watch(), { skipWhen: () => this.o.redis.status !== 'ready' });
    }
  }

  /** The lock's TTL: a holder that died leaves it to another process within a few watches. */
  private get lockTtlMs(): number {
    return Math.min(this.o.everyMs * 3, Math.max(2000, (this.o.watchMs ?? WATCH_MS) * 4));
  }

  /** A pass now when a watched stream lost its lease (its owner died); renews the lock meanwhile. */
  async watch(now = Date.now()): Promise<Map<string, Action> | null> {
    if (!this.watched.length || now - this.lastPassAt < (this.o.watchMs ?? WATCH_MS)) return null;
    const held = await this.o.redis.get(keys.reconciler(this.o.scope));
    if (held !== this.holderId && held !== null) return null;
    const pipe = this.o.redis.pipeline();
    for (const key of this.watched) pipe.get(keys.lease(key));
    const found = (await pipe.exec()) ?? [];
    if (found.every(([err, holder]) => !err && holder)) {
      // Every lease is held: are their holders alive? A dead one's leases are dropped now (holders.ts).
      const leases = new Map(this.watched.map((key, i) => [keys.lease(key), String(found[i][1])]));
      const dropped = new Set(await this.holders.reap(leases, now));
      if (dropped.size) return this.tick(now, new Set(this.watched.filter((key) => dropped.has(keys.lease(key)))));
      if (held === this.holderId) await holdLock(this.o.redis, keys.reconciler(this.o.scope), this.holderId, this.lockTtlMs);
      return null;
    }
    return this.tick(now);
  }

  async stop(): Promise<void> {
    this.stopTimer();
    this.stopWatch();
    await releaseLock(this.o.redis, keys.reconciler(this.o.scope), this.holderId).catch(() => {});
  }

  /**
   * One pass if this process holds (or takes) the lock; null when another process holds it.
   * `gone`: streams whose owner is known dead (holders.ts): no grace for them.
   */
  async tick(now = Date.now(), gone: Set<string> = new Set()): Promise<Map<string, Action> | null> {
    if (!(await holdLock(this.o.redis, keys.reconciler(this.o.scope), this.holderId, this.lockTtlMs))) return null;
    const first = this.first;
    this.first = false;
    this.lastPassAt = now;
    const done = await this.pass(now, first && this.o.resumeOnStart === false, gone);
    this.watched = [...done].filter(([, a]) => a !== 'queued' && a !== 'forgotten' && a !== 'dropped').map(([k]) => k);
    return done;
  }

  /** Reconcile every requested stream once (callers hold the lock). */
  async pass(now = Date.now(), forgetOrphans = false, gone: Set<string> = new Set()): Promise<Map<string, Action>> {
    const { redis, requested, jobs } = this.o;
    const done = new Map<string, Action>();
    const rows = await requested.list();
    const queue = rows.length ? await jobs.startJobs() : { waiting: new Set<string>(), active: new Set<string>() };
    for (const row of rows) {
      const key = row.streamKey;
      const who = redactKey(key);
      const parsed = startPayload.safeParse(row.payload);
      if (!parsed.success || parsed.data.taskId !== row.taskId || parsed.data.streamKey !== key) {
        logger.error(`requested stream ${who}: its stored payload is not a valid start payload; forgetting it`);
        await requested.remove(key, row.taskId);
        done.set(key, 'dropped');
        continue;
      }
      const p = parsed.data;
      let state = await readState(redis, key);
      if (!state) {
        const ended = await endedReason(redis, p.taskId);
        if (ended) {
          await requested.remove(key, p.taskId);
          done.set(key, 'forgotten');
          continue;
        }
        logger.warn(`requested stream ${who} has no state in Redis (Redis lost it): writing it back`);
        // queued_at: a worker still running it takes its lease again within a renewal; no requeue before that.
        state = { ...queuedState(p), queued_at: String(now / 1000), last_error: 'restored from the requested streams (Redis lost its state)' };
        await restoreState(redis, key, state);
        done.set(key, 'restored');
      } else if (state.task_id !== p.taskId || state.active !== 'true') {
        // Replaced by a newer start, or failed for good (its hash is kept for diagnosis).
        await requested.remove(key, p.taskId);
        done.set(key, 'forgotten');
        continue;
      }
      if (await redis.exists(keys.lease(key))) {
        if (!done.has(key)) done.set(key, 'ok');
        continue;
      }
      if (forgetOrphans) {
        logger.warn(`RESUME_ON_START=false: forgetting requested stream ${who} (no worker runs it)`);
        await jobs.cancel(p.taskId).catch(() => {});
        await unrequest(redis, requested, key, p.taskId, 'not resumed at start');
        await clearState(redis, key, p.taskId, 'not resumed at start');
        done.set(key, 'forgotten');
        continue;
      }
      if (queue.waiting.has(p.taskId)) {
        if (!done.has(key)) done.set(key, 'queued');
        continue;
      }
      const lastSign = Math.max(Number(state.heartbeat_at ?? 0), Number(state.requested_at ?? 0), Number(state.queued_at ?? 0)) * 1000;
      // A taken job gets the grace (claim() may be waiting for a dead owner's lease to expire);
      // no job at all gets a moment, for a start between its reservation and its enqueue.
      if (!gone.has(key) && now - lastSign < (queue.active.has(p.taskId) ? this.o.graceMs : 3000)) {
        if (!done.has(key)) done.set(key, 'ok');
        continue;
      }
      await jobs.requeue(p);
      await updateState(redis, key, p.taskId, { queued_at: now / 1000 });
      logger.warn(`requested stream ${who} had no live owner and no job: enqueued task ${p.taskId} again`);
      done.set(key, 'requeued');
    }
    await this.sweepUnrequested(new Set(rows.map((r) => r.streamKey)), now, done);
    return done;
  }

  /**
   * A stream active in Redis that is not requested and has no owner was stopped while its
   * worker died (or never had a worker): clear it, and its job, so it does not wait forever.
   */
  private async sweepUnrequested(requestedKeys: Set<string>, now: number, done: Map<string, Action>): Promise<void> {
    const { redis, jobs } = this.o;
    for (const key of await redis.smembers(keys.active())) {
      if (requestedKeys.has(key)) continue;
      const state = await readState(redis, key);
      if (!state?.task_id || state.active !== 'true' || (await redis.exists(keys.lease(key)))) continue;
      const lastSign = Math.max(Number(state.heartbeat_at ?? 0), Number(state.requested_at ?? 0), Number(state.queued_at ?? 0)) * 1000;
      // The grace covers a start between its reservation and its row.
      if (now - lastSign < this.o.graceMs) continue;
      logger.warn(`stream ${redactKey(key)} is active in Redis but no longer requested and has no owner: clearing it`);
      await jobs.cancel(state.task_id).catch(() => {});
      await clearState(redis, key, state.task_id, 'not requested');
      done.set(key, 'dropped');
    }
  }
}
