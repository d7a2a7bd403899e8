// The start job, one object per running stream (parity with the Celery `start_streaming_task`):
//   claim()     — is the task still the stream's? take its lease, mark it ours in the state hash;
//   run()       — the render pipeline (its own thread), frames onto the bus, a heartbeat a second,
//                 until one of the stop signals (stop-signals.ts) fires;
//   heartbeat() — the polled stop sources, then health and counters into the state hash;
//   release()   — clear the keys (unless another worker owns the stream now), end the session.
import os from 'node:os';
import { log, errMessage, redactKey } from '../logger.js';
import { keys } from '../keys.js';
import { isSceneId } from '../render/scenes/catalog.js';
import { ThreadedPipeline } from '../render/threaded-pipeline.js';
import { publishFrame } from '../streams/bus.js';
import { holdLease, releaseLease } from '../streams/lease.js';
import type { StartPayload } from '../streams/schema.js';
import { clearState, readState, restoreState, updateState, type Health } from '../streams/state.js';
import { every } from '../every.js';
import { trackStream } from '../metrics/sources.js';
import type { StartContext, StartResult } from './job-context.js';
import { StopSignals, handedOver } from './stop-signals.js';

const logger = log('STREAMING-TASK');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


export class StreamJob {
  private readonly key: string;
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

  constructor(
    private readonly ctx: StartContext,
    private readonly p: StartPayload,
  ) {
    this.key = p.streamKey;
    this.who = redactKey(p.streamKey);
    this.ttlMs = ctx.config.HEARTBEAT_TTL_SECONDS * 1000;
    this.base = { streamKey: p.streamKey, taskId: p.taskId };
    this.signals = new StopSignals({
      redis: ctx.redis,
      streamKey: p.streamKey,
      taskId: p.taskId,
      workerId: ctx.workerId,
      leaseTtlMs: this.ttlMs,
      who: this.who,
      restore: () => this.restoreState(),
    });
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
      logger.warn(`stream ${this.who} is held by another live worker; leaving it there`);
      return { ...this.base, outcome: 'skipped', reason: 'held by another worker' };
    }

    // A takeover (the previous worker died: SIGKILL, lost host) counts as a restart.
    const takeover = !!state.worker_id && state.worker_id !== workerId;
    this.restarts = Number(state.restarts ?? 0) + (takeover ? 1 : 0);
    this.startedAt = state.started_at ? Number(state.started_at) : Date.now() / 1000;
    this.broadcastFps = p.broadcastFps ?? config.BROADCAST_FPS;
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
      ...(takeover ? { last_error: `taken over from worker ${state.worker_id}` } : {}),
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
    let stopHeartbeat: () => void = () => {};
    let offSceneData: () => void = () => {};
    let untrack: () => void = () => {};
    try {
      if (!isSceneId(p.screenId)) throw new Error(`unknown screenId "${p.screenId}"`);
      const plan = this.ctx.broadcast?.(this.key, this.broadcastFps) ?? null;
      this.hasBroadcast = !!plan;
      this.sessionId =
        (await this.ctx.sessions
          ?.start({ streamKey: this.key, screenId: p.screenId, taskId: p.taskId, startedAt: new Date(this.startedAt * 1000) })
          .catch((err) => {
            logger.warn(`could not record the session start: ${errMessage(err)}`);
            return null;
          })) ?? null;

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
        onPreview: (jpeg, seq, ts) => {
          this.published += 1;
          publishFrame(redis, this.key, { seq, ts, jpeg }).catch(() => {
            /* Redis away: the heartbeat reports it; frames are disposable */
          });
        },
      }));
      // Subscribed before the start, so the first frames already show the scene's data.
      offSceneData = this.ctx.sceneData?.(p.screenId, (data) => pipeline.setSceneData(data)) ?? offSceneData;
      await pipeline.start();
      untrack = trackStream({ streamKey: this.key, pipeline, outputs: plan?.settings.outputs, previews: () => this.published });

      stopHeartbeat = every(1000, () => this.heartbeat(), {
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
      untrack();
      offSceneData();
      offSignals();
      await this.pipeline?.stop();
    }
  }

  /** Once a second: the polled stop sources, then health and counters. */
  async heartbeat(): Promise<void> {
    this.beats += 1;
    if (await this.signals.poll()) return;
    const pipeline = this.pipeline!;
    const s = pipeline.stats();
    const bs = pipeline.broadcast();
    const health: Health | 'stopped' = this.hasBroadcast ? (bs?.health ?? 'starting') : this.published > 0 ? 'live' : 'starting';
    await updateState(this.ctx.redis, this.key, this.p.taskId, {
      heartbeat_at: Date.now() / 1000,
      frames: s.frames,
      dropped: s.dropped,
      health: health === 'stopped' ? 'starting' : health,
      restarts: this.restarts + (bs?.restarts ?? 0),
      ...(bs ? { output_fps: bs.fps, bitrate_kbps: bs.bitrateKbps ?? '' } : {}),
      ...(bs?.lastError ? { last_error: bs.lastError } : {}),
    });
    if (this.beats === 1 || this.beats % 60 === 0) logger.debug(`stream ${this.who}: ${s.frames} frames, ${s.dropped} dropped, ${health}`);
  }

  /** Clean up after run(): the stream's keys (unless handed over), the lease, the session. */
  async release(): Promise<StartResult> {
    const { redis, workerId } = this.ctx;
    const stopReason = this.signals.reason;
    const failure = this.failure;
    const s = this.pipeline?.stats() ?? { frames: 0, dropped: 0 };
    const bs = this.pipeline?.broadcast();
    const reason = failure ? `failed: ${failure}` : stopReason;
    if (handedOver(stopReason)) {
      logger.warn(`stream ${this.who}: ${stopReason}; leaving its state to the new owner`);
    } else {
      if (failure) await updateState(redis, this.key, this.p.taskId, { last_error: failure, frames: s.frames, dropped: s.dropped }).catch(() => {});
      await clearState(redis, this.key, this.p.taskId, reason, { keepFailed: !!failure }).catch((err) =>
        logger.error(`could not clear the state of ${this.who}: ${errMessage(err)}`),
      );
      await releaseLease(redis, this.key, workerId).catch(() => {});
    }
    if (this.sessionId !== null) {
      await this.ctx.sessions
        ?.end(this.sessionId, {
          stopReason: reason,
          frames: s.frames,
          dropped: s.dropped,
          restarts: this.restarts + (bs?.restarts ?? 0),
          lastError: failure ?? bs?.lastError ?? null,
        })
        .catch((err) => logger.warn(`could not record the session end: ${errMessage(err)}`));
    }
    const fields = { ...this.fields(), durationMs: this.startedAt ? Date.now() - this.startedAt * 1000 : undefined, frames: s.frames, dropped: s.dropped };
    if (failure) logger.error(`❌ stream ${this.who} failed: ${failure}`, fields);
    else logger.info(`✅ stream ${this.who} stopped (${stopReason}; ${s.frames} frames, ${s.dropped} dropped)`, fields);
    return { ...this.base, outcome: failure ? 'failed' : 'stopped', reason, frames: s.frames };
  }

  /** The fields of this job's log lines (the logger redacts `stream`). */
  private fields() {
    return { stream: this.key, taskId: this.p.taskId, workerId: this.ctx.workerId };
  }

  /** Wait until we hold the lease; a dead owner's lease expires within its TTL. */
  private async acquireLease(): Promise<boolean> {
    const deadline = Date.now() + this.ttlMs + 2000;
    while (Date.now() < deadline) {
      if (await holdLease(this.ctx.redis, this.key, this.ctx.workerId, this.ttlMs)) return true;
      await sleep(500);
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
    });
  }
}
