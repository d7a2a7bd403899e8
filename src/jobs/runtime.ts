// The worker role: consumes the three queues, runs start jobs (one per live stream), answers
// stop and status jobs, heartbeats, keeps unowned streams' health honest (reaper), runs the
// reconciler when it has the requested streams, and hands its streams over when told to stop, or
// one of them when it has been over its headroom for a while (rebalancer.ts).
import os from 'node:os';
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { keys } from '../keys.js';
import type { RedisConnections, Subscriber, Unsubscribe } from '../redis/index.js';
import { errMessage, log, redactKey } from '../logger.js';
import { JOBS } from './definitions.js';
import { closeQueues, createQueues, jobSender, type Queues } from './producer.js';
import { closeQueue } from '../queue.js';
import type { JobSender } from '../streams/control.js';
import { Reconciler } from '../streams/reconciler.js';
import { namedConnection } from '../streams/holders.js';
import type { RequestedStreams } from '../streams/requested.js';
import type { BroadcastFactory } from '../render/broadcast.js';
import { readState, requestStop, toStatus, updateState } from '../streams/state.js';
import { startReaper } from '../streams/reaper.js';
import { every } from '../every.js';
import type { SceneDataSource, SessionRecorder, StartContext, StartResult } from './job-context.js';
import { SceneFeeds, pollShowSettings } from './scene-feeds.js';
import { StreamJob } from './stream-job.js';
import { observePickup, trackQueues, trackWorker } from '../metrics/index.js';
import { NO_CAPACITY, WorkerLoad } from './admission.js';
import { Rebalancer } from './rebalancer.js';
import { PreviewRates } from './preview-rates.js';
import { writeBeat } from '../streams/worker-beats.js';
import type { StartPayload } from '../streams/schema.js';

const logger = log('STREAMING-TASK');

export interface WorkerOptions {
  broadcast?: BroadcastFactory;
  sessions?: SessionRecorder;
  /** Scene data held by this thread, forwarded to each stream's render thread (the live poll). */
  sceneData?: SceneDataSource;
  workerId?: string;
  /** The requested streams (PostgreSQL): the job forgets a stopped stream, the reconciler runs here too. */
  requested?: RequestedStreams;
  /**
   * A stream whose render thread crashed after running this long is enqueued again at once
   * (default 60 s); sooner, it waits for the reconciler's pass, which paces a crash loop.
   */
  restartAfterLossMs?: number;
}

export class WorkerRuntime {
  readonly workerId: string;
  readonly redis: Redis;
  readonly subscriber: Subscriber;
  /** Live data for the scenes of this worker's streams (one poll view for all of them). */
  readonly sceneFeeds: SceneFeeds;
  private queues: Queues | null = null;
  /** Producer-side queues: hand-overs and the reconciler enqueue through these. */
  private producer: Queues | null = null;
  private sender: JobSender | null = null;
  private reconciler: Reconciler | null = null;
  private readonly jobs = new Map<StreamJob, Promise<StartResult>>();
  /** Tasks whose render thread crashed under them after a good run: enqueued again once bee-queue has finished them. */
  private readonly restartNow = new Set<string>();
  private readonly controls = new Map<string, (reason: string) => void>();
  private readonly destControls = new Map<string, () => void>();
  private readonly timers: Array<() => void> = [];
  private shutdownSignal!: () => void;
  private readonly shuttingDown = new Promise<void>((r) => (this.shutdownSignal = r));
  private closed = false;
  private active = 0;
  private offControl: Unsubscribe | null = null;
  private offDestControl: Unsubscribe | null = null;
  /** Issue 13: what the streams cost, the headroom, the shed level. */
  readonly load: WorkerLoad;
  readonly rebalancer: Rebalancer;
  /** Issue 14: previews of streams nobody watches at PREVIEW_IDLE_FPS. */
  private readonly previews: PreviewRates;
  /** Tasks refused for lack of capacity (logged once each). */
  private readonly declined = new Set<string>();

  /** `conns`: the process's Redis connections (src/roles.ts opens them; their opener closes them). */
  constructor(
    private readonly config: Config,
    conns: RedisConnections,
    private readonly opts: WorkerOptions = {},
  ) {
    this.workerId = opts.workerId ?? `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
    this.redis = conns.redis;
    this.subscriber = conns.sub;
    this.load = new WorkerLoad(config, () => this.active);
    this.rebalancer = new Rebalancer({
      redis: this.redis,
      workerId: this.workerId,
      heartbeatTtlSeconds: config.HEARTBEAT_TTL_SECONDS,
      graceMs: config.REBALANCE_GRACE_SECONDS * 1000,
      load: this.load,
      jobs: () => this.jobs.keys(),
      sender: () => this.sender,
    });
    this.previews = new PreviewRates(this.redis, config.PREVIEW_IDLE_FPS);
    this.sceneFeeds = new SceneFeeds({ redis: this.redis, subscriber: this.subscriber }, { show: pollShowSettings(config) });
  }

  get runningStreams(): string[] {
    return [...this.controls.keys()];
  }

  async start(): Promise<void> {
    // Named after this worker: when the process dies Redis drops the name, and the reconciler
    // takes its streams over at once (streams/holders.ts). ioredis names every reconnection too.
    this.redis.options.connectionName = namedConnection(this.workerId);
    await this.redis.client('SETNAME', namedConnection(this.workerId)).catch(() => {});
    this.offControl = await this.subscriber.subscribe(keys.control(), (streamKey) => this.controls.get(streamKey.toString())?.('requested'));
    this.offDestControl = await this.subscriber.subscribe(keys.destControl(), (streamKey) => this.destControls.get(streamKey.toString())?.());

    const q = (this.queues = createQueues(this.config.REDIS_URL, { prefix: this.config.QUEUE_PREFIX, isWorker: true, watch: this.redis }));
    const producer = (this.producer = createQueues(this.config.REDIS_URL, { prefix: this.config.QUEUE_PREFIX, isWorker: false, watch: this.redis }));
    this.sender = jobSender(producer);
    await Promise.all([q.start.ready(), q.stop.ready(), q.status.ready(), producer.start.ready()]);
    this.timers.push(trackQueues(q));
    const ctx: StartContext = {
      config: this.config,
      redis: this.redis,
      workerId: this.workerId,
      shuttingDown: this.shuttingDown,
      broadcast: this.opts.broadcast,
      sessions: this.opts.sessions,
      sceneData: this.opts.sceneData ?? this.sceneFeeds.feed,
      onDestinations: (streamKey: string, changed: () => void) => {
        this.destControls.set(streamKey, changed);
        return () => {
          if (this.destControls.get(streamKey) === changed) this.destControls.delete(streamKey);
        };
      },
      requested: this.opts.requested,
      onPipeline: (s) => this.previews.register(s, (gated) => this.load.register(gated)),
      onControl: (streamKey: string, stop: (reason: string) => void) => {
        this.controls.set(streamKey, stop);
        return () => {
          if (this.controls.get(streamKey) === stop) this.controls.delete(streamKey);
        };
      },
    };

    await this.load.prime();
    q.start.process(this.config.WORKER_CONCURRENCY, async (job): Promise<StartResult> => {
      observePickup(q.start.name, job);
      const payload = JOBS.start.schema.parse(job.data);
      // Handed away by rebalancing a moment ago: back to the queue (on 'succeeded'), for another worker.
      if (this.rebalancer.refuses(payload.taskId)) return { streamKey: payload.streamKey, taskId: payload.taskId, outcome: 'skipped', reason: 'handed away by this worker (rebalancing)' };
      // A stream that has been on air before (its state has started_at) is resumed, not new.
      const resumed = await this.wasOnAir(payload);
      // Checked and counted in one go (no await between), so two jobs at once cannot both take the last room.
      if (!this.load.admit(resumed)) return this.decline(payload);
      this.declined.delete(payload.taskId);
      this.active += 1;
      const streamJob = new StreamJob(ctx, payload);
      const run = streamJob.execute();
      this.jobs.set(streamJob, run);
      const began = Date.now();
      try {
        const result = await run;
        // A crashed render thread took the stream with it: started again at once (issue 14), not
        // after the reconciler's grace, unless it crashed within a minute (a crash loop waits).
        if (result.reason === 'render thread lost' && Date.now() - began >= (this.opts.restartAfterLossMs ?? 60_000)) this.restartNow.add(payload.taskId);
        return result;
      } finally {
        this.jobs.delete(streamJob);
        this.active -= 1;
      }
    });
    // After bee-queue has finished a start job (its id free again): a handed-away task goes back to the queue.
    q.start.on('succeeded', (job) => {
      const p = JOBS.start.schema.safeParse(job.data);
      if (!p.success) return;
      if (this.restartNow.delete(p.data.taskId) && this.sender && !this.closed) {
        const who = redactKey(p.data.streamKey);
        this.sender
          .requeue(p.data)
          .then(() => logger.info(`stream ${who}: its render thread was lost, task ${p.data.taskId} enqueued again`))
          .catch((err) => logger.warn(`could not enqueue stream ${who} again after its render thread was lost (the reconciler will): ${errMessage(err)}`));
        return;
      }
      void this.rebalancer.finished(p.data).catch(() => {});
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
    if (this.load.measuring) this.timers.push(every(2000, async () => {
      await this.load.tick();
      await this.rebalancer.tick();
    }));
    this.timers.push(every(1000, () => this.previews.check(), { skipWhen: () => this.redis.status !== 'ready' }));
    this.timers.push(trackWorker({ workerId: this.workerId, snapshot: () => this.load.snapshot(), counts: this.load.counts }));
    this.timers.push(startReaper(this.redis, this.config.HEARTBEAT_TTL_SECONDS * 1000 + 5000));
    if (this.opts.requested) {
      this.reconciler = new Reconciler({
        redis: this.redis,
        requested: this.opts.requested,
        jobs: this.sender,
        graceMs: this.config.LEASE_TTL_MS,
        everyMs: this.config.RECONCILE_SECONDS * 1000,
        resumeOnStart: this.config.RESUME_ON_START,
        scope: this.config.QUEUE_PREFIX,
      });
      this.reconciler.start();
    }
    logger.info(`worker ${this.workerId} ready (up to ${this.config.WORKER_CONCURRENCY} streams)`);
  }

  private async beat(): Promise<void> {
    const beat = { pid: process.pid, host: os.hostname(), streams: this.runningStreams.length, at: Date.now(), capacity: this.load.snapshot() };
    await writeBeat(this.redis, this.workerId, beat, this.config.HEARTBEAT_TTL_SECONDS);
  }

  /** The task has been on air before (a take-over, a hand-over, a job Redis lost): its state says when it started. */
  private async wasOnAir(p: StartPayload): Promise<boolean> {
    const [startedAt, taskId] = await this.redis.hmget(keys.state(p.streamKey), 'started_at', 'task_id').catch(() => [null, null]);
    return !!startedAt && taskId === p.taskId;
  }

  /**
   * No room for the stream here (issue 13): it is not claimed. It waits (`health=waiting`,
   * "no capacity") and the job ends; the reconciler enqueues it again after a few seconds, for
   * whichever worker has room then (a newly joined one included). A stream another worker
   * holds is left alone.
   */
  private async decline(p: StartPayload): Promise<StartResult> {
    const base = { streamKey: p.streamKey, taskId: p.taskId, outcome: 'skipped' as const };
    if (await this.redis.exists(keys.lease(p.streamKey))) return { ...base, reason: 'held by another worker' };
    const first = !this.declined.has(p.taskId);
    this.declined.add(p.taskId);
    if (this.declined.size > 1000) this.declined.clear();
    await updateState(this.redis, p.streamKey, p.taskId, { health: 'waiting', last_error: NO_CAPACITY, queued_at: Date.now() / 1000 });
    const s = this.load.snapshot();
    const msg = `stream ${redactKey(p.streamKey)} waits: no capacity on worker ${this.workerId} (${this.active} streams, ${s.cpuAvailable ?? '?'} cores available, ${s.costPerStream} per stream)`;
    if (first) logger.warn(msg);
    else logger.debug(msg);
    return { ...base, reason: NO_CAPACITY };
  }

  /**
   * Hand every stream over, stop taking jobs, leave Redis. Safe to call twice.
   * Order matters: (1) the start queue closes at once, so this worker takes no job (not even its
   * own handed-over ones) and bee-queue forgets the running jobs (a job that finishes after its
   * queue closed writes nothing, so it cannot delete the new job of the same id); (2) each
   * stream releases its lease and is enqueued again, while its FFmpeg still runs; (3) the
   * streams stop, leaving their state for the next owner.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timers.forEach((t) => t());
    await this.reconciler?.stop();
    const q = this.queues;
    // bee-queue's close(timeout) rejects when jobs are still running: expected here.
    if (q) await q.start.close(1).catch(() => {});
    if (this.sender) await Promise.all([...this.jobs.keys()].map((j) => j.handOver(this.sender!)));
    this.shutdownSignal();
    await Promise.race([Promise.allSettled(this.jobs.values()), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    if (q) await Promise.all([closeQueue(q.stop, 2000), closeQueue(q.status, 2000)]);
    if (this.producer) await closeQueues(this.producer);
    await this.sceneFeeds.close();
    await this.offControl?.();
    await this.offDestControl?.();
    await this.redis.multi().zrem(keys.workers(), this.workerId).del(keys.worker(this.workerId)).exec().catch(() => {});
    logger.info(`worker ${this.workerId} closed`);
  }
}

/** Workers whose heartbeat is fresh. */
export async function liveWorkers(redis: Redis, ttlSeconds: number): Promise<string[]> {
  return redis.zrangebyscore(keys.workers(), Date.now() - ttlSeconds * 1000, '+inf');
}
