// The start job, one object per running stream (parity with the Celery `start_streaming_task`):
// claim() takes the task's lease and marks it ours; run() renders (its own thread) and publishes
// until a stop signal (stop-signals.ts); heartbeat() polls the stop sources and writes health and
// counters; release() settles what the end leaves (stream-end.ts); handOver() (worker shutting
// down) releases the lease and enqueues the task again before FFmpeg ends, for another worker,
// or (rebalancing) stops the stream here and leaves the lease and the enqueue to the runtime.
import os from 'node:os';
import { log, errMessage, redactKey } from '../logger.js';
import { keys } from '../keys.js';
import { isSceneId } from '../render/scenes/catalog.js';
import { ThreadedPipeline } from '../render/threaded-pipeline.js';
import { publishFrame } from '../streams/bus.js';
import { holdLease, LeaseKeeper, releaseLease } from '../streams/lease.js';
import type { StartPayload } from '../streams/schema.js';
import { clearState, readState, restoreState, updateState, type Health } from '../streams/state.js';
import type { JobSender } from '../streams/control.js';
import { every } from '../every.js';
import { trackStream } from '../metrics/sources.js';
import type { StartContext, StartResult } from './job-context.js';
import { StopSignals, endsRequest } from './stop-signals.js';
import { settleStreamEnd } from './stream-end.js';
import { broadcastError, broadcastHealth, JobDestinations } from './job-destinations.js';
import type { DestinationConfig } from '../streams/destinations.js';

const logger = log('STREAMING-TASK');

export class StreamJob {
  readonly key: string;
  private readonly who: string;
  private readonly ttlMs: number;
  private readonly base: { streamKey: string; taskId: string };
  private readonly signals: StopSignals;
  /** The fields this worker owns in the state hash (written back after a Redis restart). */
  private claimed: Record<string, string | number> = {};
  private restarts = 0;
  private startedAt = 0;
  private broadcastFps = 0;
  private pipeline: ThreadedPipeline | null = null;
  private hasBroadcast = false;
  private published = 0;
  private beats = 0;
  private sessionId: number | null = null;
  private failure: string | null = null;
  private readonly destinations: JobDestinations;
  private startDestinations: DestinationConfig[] | undefined;
  private handingOver = false; // set by handOver(): no more renewals, claim() gives up
  private beating: Promise<void> = Promise.resolve();
  private lease: LeaseKeeper | null = null; // renews from the claim on (a short TTL must not lapse while the pipeline starts)

  constructor(
    private readonly ctx: StartContext,
    readonly p: StartPayload,
  ) {
    this.key = p.streamKey;
    this.who = redactKey(p.streamKey);
    this.ttlMs = ctx.config.LEASE_TTL_MS;
    this.base = { streamKey: p.streamKey, taskId: p.taskId };
    this.destinations = new JobDestinations(ctx.redis, p, ctx.payloadChanged);
    const { redis, workerId } = ctx;
    this.signals = new StopSignals({ redis, streamKey: p.streamKey, taskId: p.taskId, workerId, leaseTtlMs: this.ttlMs, who: this.who, restore: () => this.restoreState() });
  }

  /** The whole job: claim, run until stopped, release. */
  async execute(): Promise<StartResult> {
    const early = await this.claim();
    if (early) return early;
    await this.run();
    return this.release();
  }

  /** Take the stream; a result when there is nothing to run (stale task, stopped, held elsewhere). */
  async claim(): Promise<StartResult | null> {
    const { redis, config, workerId } = this.ctx;
    const p = this.p;
    logger.info(`starting stream ${this.who} (task ${p.taskId}, screen ${p.screenId}, preview ${p.fps} fps q${p.quality})`, this.fields());
    const state = await readState(redis, this.key);
    if (!state || state.task_id !== p.taskId || state.active !== 'true') {
      logger.info(`task ${p.taskId} is no longer the stream's current task: nothing to do`);
      return { ...this.base, outcome: 'skipped', reason: 'stale task' };
    }
    if (await redis.exists(keys.stopRequested(this.key))) {
      await clearState(redis, this.key, p.taskId, 'stopped before start');
      return { ...this.base, outcome: 'stopped', reason: 'stopped before start' };
    }
    if (!(await this.acquireLease())) {
      if (this.handingOver) return { ...this.base, outcome: 'handed-off', reason: 'worker shutting down' };
      logger.warn(`stream ${this.who} is held by another live worker; leaving it there`);
      return { ...this.base, outcome: 'skipped', reason: 'held by another worker' };
    }
    if (this.handingOver) {
      await releaseLease(redis, this.key, workerId).catch(() => {});
      return { ...this.base, outcome: 'handed-off', reason: 'worker shutting down' };
    }
    this.lease = new LeaseKeeper(redis, this.key, workerId, this.ttlMs, () => this.signals.stop('lease lost'));
    this.lease.start();

    // A takeover (the previous worker died: SIGKILL, lost host) counts as a restart.
    const takeover = !!state.worker_id && state.worker_id !== workerId;
    this.restarts = Number(state.restarts ?? 0) + (takeover ? 1 : 0);
    this.startedAt = state.started_at ? Number(state.started_at) : Date.now() / 1000;
    this.broadcastFps = p.broadcastFps ?? config.BROADCAST_FPS;
    this.startDestinations = this.destinations.initial(state);
    this.claimed = {
      host: os.hostname(),
      port: config.PORT,
      started_at: this.startedAt,
      worker_id: workerId,
      broadcast_fps: this.broadcastFps,
    };
    await updateState(redis, this.key, p.taskId, {
      ...this.claimed,
      health: 'starting',
      heartbeat_at: Date.now() / 1000,
      restarts: this.restarts,
      queued_at: '',
      // A takeover says so; a stream that waited for a worker or was handed over is fine now.
      last_error: takeover ? `taken over from worker ${state.worker_id}` : state.last_error?.startsWith('handed over') ? state.last_error : '',
    });
    // A Redis that restarts comes back empty: the state hash vanishing then is no stop request.
    await this.signals.init();
    if (takeover) logger.warn(`stream ${this.who} taken over from worker ${state.worker_id}`);
    logger.info(`✅ stream ${this.who} marked active in Redis`);
    return null;
  }

  /** Render and publish until a stop signal; a failure to start is kept for release(). */
  async run(): Promise<void> {
    const { redis, config } = this.ctx;
    const p = this.p;
    const offSignals = this.signals.listen(this.ctx.onControl, this.ctx.shuttingDown);
    let [stopHeartbeat, offSceneData, offDestinations] = [() => {}, () => {}, () => {}] as Array<() => void>;
    const untrack: Array<(() => void) | undefined> = [];
    try {
      if (!isSceneId(p.screenId)) throw new Error(`unknown screenId "${p.screenId}"`);
      const plan = this.ctx.broadcast?.(this.key, this.broadcastFps, { destinations: this.startDestinations, hls: p.hls }) ?? null;
      this.hasBroadcast = !!plan;
      // Recorded while the pipeline starts (a database round trip is no reason to wait for the first frame).
      const session = this.ctx.sessions
        ?.start({ streamKey: this.key, screenId: p.screenId, taskId: p.taskId, startedAt: new Date(this.startedAt * 1000) })
        .catch((err) => {
          logger.warn(`could not record the session start: ${errMessage(err)}`);
          return null;
        });

      const pipeline = (this.pipeline = new ThreadedPipeline({
        streamKey: this.key,
        screenId: p.screenId,
        startedMs: this.startedAt * 1000,
        preview: { fps: p.fps, quality: p.quality, width: config.PREVIEW_WIDTH, height: config.PREVIEW_HEIGHT },
        broadcast: plan,
        onFailed: (message) => {
          this.failure = message;
          this.signals.stop('failed');
        },
        onLost: () => this.signals.stop('render thread lost'),
        onPreview: (jpeg, seq, ts) => {
          this.published += 1;
          publishFrame(redis, this.key, { seq, ts, jpeg }).catch(() => {
            /* Redis away: the heartbeat reports it; frames are disposable */
          });
        },
      }));
      // Subscribed before the start, so the first frames already show the scene's data.
      offSceneData = this.ctx.sceneData?.(p.screenId, (data) => pipeline.setSceneData(data)) ?? offSceneData;
      await pipeline.start().finally(async () => (this.sessionId = (await session) ?? null));
      if (plan) {
        await this.destinations.started(pipeline, plan.destinations, !!plan.hlsDir);
        offDestinations = this.ctx.onDestinations?.(this.key, () => void this.destinations.refresh().catch(() => {})) ?? (() => {});
      }
      untrack.push(trackStream({ streamKey: this.key, pipeline, previews: () => this.published }), this.ctx.onPipeline?.({ streamKey: this.key, pipeline, broadcastFps: this.broadcastFps, previewFps: p.fps }));

      stopHeartbeat = every(1000, () => (this.beating = this.heartbeat()), {
        // The stream goes on while Redis is away; say so once, not every second.
        onFail: (err) => logger.warn(`heartbeat of ${this.who} failing (the stream goes on): ${errMessage(err)}`),
        onRecover: () => logger.info(`heartbeat of ${this.who} is back`),
      });
      await this.signals.stopped;
    } catch (err) {
      this.failure = errMessage(err);
      logger.error(`stream ${this.who} could not run: ${this.failure}`);
    } finally {
      stopHeartbeat();
      untrack.forEach((off) => off?.());
      offSceneData();
      offDestinations();
      offSignals();
      await this.pipeline?.stop();
    }
  }

  /** Once a second: the polled stop sources, then health and counters. */
  async heartbeat(): Promise<void> {
    this.beats += 1;
    if (this.handingOver || (await this.signals.poll())) return;
    const pipeline = this.pipeline!;
    const s = pipeline.stats();
    const bs = pipeline.broadcast();
    const health: Health = this.hasBroadcast ? broadcastHealth(bs) : this.published > 0 ? 'live' : 'starting';
    const lastError = broadcastError(bs);
    await updateState(this.ctx.redis, this.key, this.p.taskId, {
      heartbeat_at: Date.now() / 1000,
      frames: s.frames,
      dropped: s.dropped,
      preview_fps: pipeline.previewFps ?? this.p.fps, preview_frames: s.previewFrames, // lower while nobody watches (issue 14)
      health,
      restarts: this.restarts + (bs?.restarts ?? 0) + (bs?.destinations.reduce((n, d) => n + d.restarts, 0) ?? 0),
      ...(bs ? { output_fps: bs.fps, bitrate_kbps: bs.bitrateKbps ?? '' } : {}),
      ...(lastError ? { last_error: lastError } : {}),
      ...this.destinations.statusFields(bs),
      // How long every destination has been unreachable (unix seconds), while reconnecting.
      down_since: health === 'reconnecting' && bs?.downSince ? bs.downSince / 1000 : '',
    });
    if (this.hasBroadcast) await this.destinations.refresh();
    if (this.beats === 1 || this.beats % 60 === 0) logger.debug(`stream ${this.who}: ${s.frames} frames, ${s.dropped} dropped, ${health}`);
  }

  /** Clean up after run(): the stream's keys (unless handed over), the lease, the session. */
  async release(): Promise<StartResult> {
    await this.lease?.stop();
    const stopReason = this.signals.reason;
    const failure = this.failure;
    const s = this.pipeline?.stats() ?? { frames: 0, dropped: 0 };
    const bs = this.pipeline?.broadcast();
    const reason = failure ? `failed: ${failure}` : stopReason === 'shutdown' ? 'handed over (worker shutting down)' : stopReason === 'rebalance' ? 'handed over (rebalancing)' : stopReason;
    await settleStreamEnd(this.ctx, this.p, {
      who: this.who,
      stopReason,
      failure,
      reason,
      frames: s.frames,
      dropped: s.dropped,
      restarts: this.restarts + (bs?.restarts ?? 0),
      lastError: failure ?? bs?.lastError ?? null,
      sessionId: this.sessionId,
    });
    const fields = { ...this.fields(), durationMs: this.startedAt ? Date.now() - this.startedAt * 1000 : undefined, frames: s.frames, dropped: s.dropped };
    if (failure) logger.error(`❌ stream ${this.who} failed: ${failure}`, fields);
    else logger.info(`✅ stream ${this.who} stopped (${reason}; ${s.frames} frames, ${s.dropped} dropped)`, fields);
    const outcome = failure ? 'failed' : endsRequest(stopReason) ? 'stopped' : 'handed-off';
    return { ...this.base, outcome, reason, frames: s.frames };
  }

  /**
   * The worker is shutting down: hand the stream to another worker before FFmpeg ends. The
   * heartbeat stops renewing the lease (an in-flight renewal is awaited), the lease is released
   * and the task enqueued again under its own id; then the stream stops here ('shutdown'),
   * leaving its state and its request in place. Without another worker the job waits in the
   * queue (or the reconciler enqueues it) until a worker starts again. Rebalancing (`jobs` null):
   * the stream stops ('rebalance') still holding its lease; rebalancer.ts does the rest.
   */
  async handOver(jobs: JobSender | null, to = 'another worker'): Promise<void> {
    if (this.signals.reason || this.handingOver) return;
    this.handingOver = true;
    const { redis, workerId } = this.ctx;
    try {
      await Promise.all([this.beating.catch(() => {}), jobs && this.lease?.stop()]);
      await updateState(redis, this.key, this.p.taskId, { last_error: `handed over by worker ${workerId} (${jobs ? 'shutting down' : `rebalancing to ${to}`})`, queued_at: Date.now() / 1000 });
      if (jobs) {
        await releaseLease(redis, this.key, workerId);
        await jobs.requeue(this.p);
        logger.info(`stream ${this.who} handed over: task ${this.p.taskId} enqueued again`);
      }
    } catch (err) {
      logger.warn(`could not hand stream ${this.who} over (the reconciler will enqueue it again): ${errMessage(err)}`);
    }
    this.signals.stop(jobs ? 'shutdown' : 'rebalance');
  }

  /** The fields of this job's log lines (the logger redacts `stream`). */
  private fields() {
    return { stream: this.key, taskId: this.p.taskId, workerId: this.ctx.workerId };
  }

  /** Wait until we hold the lease; a dead owner's lease expires within its TTL. */
  private async acquireLease(): Promise<boolean> {
    const deadline = Date.now() + this.ttlMs + 2000;
    while (Date.now() < deadline && !this.handingOver) {
      if (await holdLease(this.ctx.redis, this.key, this.ctx.workerId, this.ttlMs)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  /** Write the stream's keys back after a Redis restart lost them. */
  private restoreState(): Promise<void> {
    const p = this.p;
    return restoreState(this.ctx.redis, this.key, {
      active: 'true',
      task_id: p.taskId,
      fps: p.fps,
      quality: p.quality,
      stream_key: p.streamKey,
      screen_id: p.screenId,
      requested_at: p.requestedAt,
      ...this.claimed,
      ...this.destinations.restoreFields(),
    });
  }
}
