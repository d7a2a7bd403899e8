// The worker role: consumes the three queues, runs start jobs (one per live stream), answers
// stop and status jobs, heartbeats, and reconciles dead workers' streams.
import os from 'node:os';
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { keys } from '../keys.js';
import { createRedis, waitReady } from '../redis.js';
import { log } from '../logger.js';
import { JOBS } from './definitions.js';
import { closeQueues, createQueues, type Queues } from './producer.js';
import type { BroadcastFactory } from '../render/broadcast.js';
import { readState, requestStop, toStatus } from '../streams/state.js';
import { startReaper } from '../streams/reaper.js';
import { every } from '../every.js';
import type { SceneDataSource, SessionRecorder, StartContext, StartResult } from './job-context.js';
import { SceneFeeds } from './scene-feeds.js';
import { StreamJob } from './stream-job.js';
import { observePickup, trackQueues } from '../metrics/index.js';

const logger = log('STREAMING-TASK');

export interface WorkerOptions {
  broadcast?: BroadcastFactory;
  sessions?: SessionRecorder;
  /** Scene data held by this thread, forwarded to each stream's render thread (the live poll). */
  sceneData?: SceneDataSource;
  workerId?: string;
}

export class WorkerRuntime {
  readonly workerId: string;
  readonly redis: Redis;
  readonly subscriber: Redis;
  /** Live data for the scenes of this worker's streams (one poll view for all of them). */
  readonly sceneFeeds: SceneFeeds;
  private queues: Queues | null = null;
  private readonly controls = new Map<string, (reason: string) => void>();
  private readonly timers: Array<() => void> = [];
  private shutdownSignal!: () => void;
  private readonly shuttingDown = new Promise<void>((r) => (this.shutdownSignal = r));
  private closed = false;
  private active = 0;

  constructor(
    private readonly config: Config,
    private readonly opts: WorkerOptions = {},
  ) {
    this.workerId = opts.workerId ?? `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
    this.redis = createRedis(config.REDIS_URL, `worker-${this.workerId}`);
    this.subscriber = createRedis(config.REDIS_URL, `worker-sub-${this.workerId}`, { subscriber: true });
    this.sceneFeeds = new SceneFeeds({ redis: this.redis, subscriber: this.subscriber });
  }

  get runningStreams(): string[] {
    return [...this.controls.keys()];
  }

  async start(): Promise<void> {
    await waitReady(this.redis, 5000);
    await this.subscriber.subscribe(keys.control());
    this.subscriber.on('message', (channel, streamKey) => {
      if (channel === keys.control()) this.controls.get(streamKey)?.('requested');
    });

    const q = (this.queues = createQueues(this.config.REDIS_URL, { prefix: this.config.QUEUE_PREFIX, isWorker: true }));
    await Promise.all([q.start.ready(), q.stop.ready(), q.status.ready()]);
    this.timers.push(trackQueues(q));
    const ctx: StartContext = {
      config: this.config,
      redis: this.redis,
      workerId: this.workerId,
      shuttingDown: this.shuttingDown,
      broadcast: this.opts.broadcast,
      sessions: this.opts.sessions,
      sceneData: this.opts.sceneData ?? this.sceneFeeds.feed,
      onControl: (streamKey: string, stop: (reason: string) => void) => {
        this.controls.set(streamKey, stop);
        return () => {
          if (this.controls.get(streamKey) === stop) this.controls.delete(streamKey);
        };
      },
    };

    q.start.process(this.config.WORKER_CONCURRENCY, async (job): Promise<StartResult> => {
      observePickup(q.start.name, job);
      const payload = JOBS.start.schema.parse(job.data);
      this.active += 1;
      try {
        return await new StreamJob(ctx, payload).execute();
      } finally {
        this.active -= 1;
      }
    });
    q.stop.process(4, async (job) => {
      observePickup(q.stop.name, job);
      const p = JOBS.stop.schema.parse(job.data);
      const current = await this.redis.hget(keys.state(p.streamKey), 'task_id');
      if (current && current !== p.taskId) return { ignored: 'another task runs this stream now' };
      logger.info(`stop requested for task ${p.taskId} (${p.reason})`);
      await requestStop(this.redis, p.streamKey);
      return { requested: true };
    });
    q.status.process(4, async (job) => {
      observePickup(q.status.name, job);
      const p = JOBS.status.schema.parse(job.data);
      return { ...toStatus(p.streamKey, await readState(this.redis, p.streamKey)), answered_by: this.workerId };
    });
    // Stalled start jobs (their worker died) go back to waiting, and another worker takes the stream over.
    q.start.checkStalledJobs(5000).catch(() => {});

    await this.beat();
    this.timers.push(every(3000, () => this.beat()));
    this.timers.push(startReaper(this.redis, this.config.HEARTBEAT_TTL_SECONDS * 1000 + 5000));
    logger.info(`worker ${this.workerId} ready (up to ${this.config.WORKER_CONCURRENCY} streams)`);
  }

  private async beat(): Promise<void> {
    const now = Date.now();
    const info = JSON.stringify({ pid: process.pid, host: os.hostname(), streams: this.runningStreams.length, at: now });
    await this.redis
      .multi()
      .zadd(keys.workers(), now, this.workerId)
      .set(keys.worker(this.workerId), info, 'EX', this.config.HEARTBEAT_TTL_SECONDS)
      .zremrangebyscore(keys.workers(), 0, now - 3600_000)
      .exec();
  }

  /** Stop every stream this worker runs, stop taking jobs, leave Redis. Safe to call twice. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.shutdownSignal();
    this.timers.forEach((t) => t());
    const q = this.queues;
    if (q) await closeQueues(q, timeoutMs);
    await this.sceneFeeds.close();
    await this.redis.multi().zrem(keys.workers(), this.workerId).del(keys.worker(this.workerId)).exec().catch(() => {});
    this.subscriber.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
    logger.info(`worker ${this.workerId} closed`);
  }
}

/** Workers whose heartbeat is fresh. */
export async function liveWorkers(redis: Redis, ttlSeconds: number): Promise<string[]> {
  return redis.zrangebyscore(keys.workers(), Date.now() - ttlSeconds * 1000, '+inf');
}
