// The start job: claims the stream, runs its render pipeline for as long as it lives, watches
// for the stop signal (fast channel, the parity key, a lost lease, a deleted state hash), then
// cleans its keys and ends. Parity with the Celery `start_streaming_task`.
import os from 'node:os';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { keys } from '../keys.js';
import { log, errMessage, redactKey } from '../logger.js';
import { getScene } from '../render/scenes/index.js';
import type { BroadcastPlan } from '../render/thread-protocol.js';
import { ThreadedPipeline } from '../render/threaded-pipeline.js';
import { encodeFrame } from '../realtime/frame-codec.js';
import type { StartPayload } from './definitions.js';
import { clearState, readState, updateState, type Health } from './state.js';
import { holdLease, releaseLease } from './lease.js';
import { every } from './every.js';

const logger = log('STREAMING-TASK');

/** Plans a stream's broadcast (its FFmpeg runs in the stream's render thread); null: none. */
export interface BroadcastFactory {
  (streamKey: string, fps: number): BroadcastPlan | null;
}

export interface SessionRecorder {
  start(s: { streamKey: string; screenId: string; taskId: string; startedAt: Date }): Promise<number | null>;
  end(
    id: number,
    s: { stopReason: string; frames: number; dropped: number; restarts: number; lastError: string | null },
  ): Promise<void>;
}

export interface StartContext {
  config: Config;
  redis: Redis;
  subscriber: Redis;
  workerId: string;
  /** Registers the stop callback of a running stream for the fast control channel. */
  onControl(streamKey: string, stop: (reason: string) => void): () => void;
  /** Resolves when the worker is shutting down. */
  shuttingDown: Promise<void>;
  broadcast?: BroadcastFactory;
  sessions?: SessionRecorder;
  /** Live data for a scene (the poll): `push` gets the current data at once and every change; returns unsubscribe. */
  sceneData?: SceneDataFeed;
}

/** The worker's main thread feeds a live-data scene through this; the render thread draws what it gets. */
export type SceneDataFeed = (screenId: string, push: (data: unknown) => void) => () => void;

export interface StartResult {
  streamKey: string;
  taskId: string;
  outcome: 'stopped' | 'failed' | 'skipped' | 'handed-off';
  reason: string;
  frames?: number;
}

/** Redis's run_id changes when the server restarts. */
async function serverRunId(redis: Redis): Promise<string> {
  return /run_id:(\w+)/.exec(await redis.info('server'))?.[1] ?? '';
}

/** Rewrite a running stream's keys after Redis lost them. */
async function restoreState(redis: Redis, p: StartPayload, claimed: Record<string, string | number>): Promise<void> {
  await redis
    .multi()
    .hset(keys.state(p.streamKey), {
      active: 'true',
      task_id: p.taskId,
      fps: p.fps,
      quality: p.quality,
      stream_key: p.streamKey,
      screen_id: p.screenId,
      requested_at: p.requestedAt,
      ...claimed,
    })
    .sadd(keys.active(), p.streamKey)
    .exec();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until we hold the lease; a dead owner's lease expires within its TTL. */
async function acquireLease(ctx: StartContext, streamKey: string, ttlMs: number): Promise<boolean> {
  const deadline = Date.now() + ttlMs + 2000;
  while (Date.now() < deadline) {
    if (await holdLease(ctx.redis, streamKey, ctx.workerId, ttlMs)) return true;
    await sleep(500);
  }
  return false;
}

export async function runStartJob(ctx: StartContext, p: StartPayload): Promise<StartResult> {
  const { redis, config } = ctx;
  const key = p.streamKey;
  const who = redactKey(key);
  const base = { streamKey: key, taskId: p.taskId };
  logger.info(`starting stream ${who} (task ${p.taskId}, screen ${p.screenId}, preview ${p.fps} fps q${p.quality})`);

  const state = await readState(redis, key);
  if (!state || state.task_id !== p.taskId || state.active !== 'true') {
    logger.info(`task ${p.taskId} is no longer the stream's current task: nothing to do`);
    return { ...base, outcome: 'skipped', reason: 'stale task' };
  }
  if (await redis.exists(keys.stopRequested(key))) {
    await clearState(redis, key, p.taskId, 'stopped before start');
    return { ...base, outcome: 'stopped', reason: 'stopped before start' };
  }
  const ttlMs = config.HEARTBEAT_TTL_SECONDS * 1000;
  if (!(await acquireLease(ctx, key, ttlMs))) {
    logger.warn(`stream ${who} is held by another live worker; leaving it there`);
    return { ...base, outcome: 'skipped', reason: 'held by another worker' };
  }

  const takeover = !!state.worker_id && state.worker_id !== ctx.workerId;
  const restarts = Number(state.restarts ?? 0) + (takeover ? 1 : 0);
  const startedAt = state.started_at ? Number(state.started_at) : Date.now() / 1000;
  const broadcastFps = p.broadcastFps ?? config.BROADCAST_FPS;
  const claimed = {
    host: os.hostname(),
    port: config.PORT,
    started_at: startedAt,
    worker_id: ctx.workerId,
    broadcast_fps: broadcastFps,
  };
  await updateState(redis, key, p.taskId, {
    ...claimed,
    health: 'starting',
    heartbeat_at: Date.now() / 1000,
    restarts,
    ...(takeover ? { last_error: `taken over from worker ${state.worker_id}` } : {}),
  });
  // A Redis that restarts comes back empty: the state hash vanishing then is no stop request.
  let redisRunId = await serverRunId(redis);
  if (takeover) logger.warn(`stream ${who} taken over from worker ${state.worker_id}`);
  logger.info(`✅ stream ${who} marked active in Redis`);

  let stopReason = '';
  let wake: () => void = () => {};
  const stopped = new Promise<void>((r) => (wake = r));
  const stop = (reason: string) => {
    if (!stopReason) {
      stopReason = reason;
      logger.info(`stop of ${who} (${reason})`);
      wake();
    }
  };
  const offControl = ctx.onControl(key, stop);
  ctx.shuttingDown.then(() => stop('shutdown'));

  const scene = getScene(p.screenId);
  let pipeline: ThreadedPipeline | null = null;
  let sessionId: number | null = null;
  let published = 0;
  let stopHeartbeat: () => void = () => {};
  let offSceneData: () => void = () => {};
  let failure: string | null = null;

  try {
    if (!scene) throw new Error(`unknown screenId "${p.screenId}"`);
    const plan = ctx.broadcast?.(key, broadcastFps) ?? null;
    sessionId = (await ctx.sessions?.start({ streamKey: key, screenId: p.screenId, taskId: p.taskId, startedAt: new Date(startedAt * 1000) }).catch((err) => {
      logger.warn(`could not record the session start: ${errMessage(err)}`);
      return null;
    })) ?? null;

    const channel = keys.frames(key);
    pipeline = new ThreadedPipeline({
      streamKey: key,
      screenId: p.screenId,
      startedMs: startedAt * 1000,
      preview: { fps: p.fps, quality: p.quality, width: config.PREVIEW_WIDTH, height: config.PREVIEW_HEIGHT },
      broadcast: plan,
      onFailed: (message) => {
        failure = message;
        stop('failed');
      },
      onPreview: (jpeg, seq, ts) => {
        published += 1;
        redis.publish(channel, encodeFrame({ seq, ts, jpeg })).catch(() => {
          /* Redis away: the heartbeat reports it; frames are disposable */
        });
      },
    });
    const threaded = pipeline;
    offSceneData = ctx.sceneData?.(p.screenId, (data) => threaded.setSceneData(data)) ?? offSceneData;
    await pipeline.start();

    // Heartbeat + the parity poll of the stop key, once a second.
    let beat = 0;
    const tick = async () => {
      beat += 1;
      const [stopKey, owner] = await Promise.all([redis.exists(keys.stopRequested(key)), redis.hget(keys.state(key), 'task_id')]);
      if (stopKey) return stop('requested');
      if (!owner) {
        const runId = await serverRunId(redis);
        if (runId === redisRunId) return stop('state removed');
        redisRunId = runId;
        logger.warn(`Redis restarted: restoring the state of ${who}`);
        await restoreState(redis, p, claimed);
      } else if (owner !== p.taskId) return stop('replaced by another task');
      if (!(await holdLease(redis, key, ctx.workerId, ttlMs))) return stop('lease lost');
      const s = pipeline!.stats();
      const bs = pipeline!.broadcast();
      const health: Health | 'stopped' = plan ? (bs?.health ?? 'starting') : published > 0 ? 'live' : 'starting';
      await updateState(redis, key, p.taskId, {
        heartbeat_at: Date.now() / 1000,
        frames: s.frames,
        dropped: s.dropped,
        health: health === 'stopped' ? 'starting' : health,
        restarts: restarts + (bs?.restarts ?? 0),
        ...(bs?.lastError ? { last_error: bs.lastError } : {}),
      });
      if (beat === 1 || beat % 60 === 0) logger.debug(`stream ${who}: ${s.frames} frames, ${s.dropped} dropped, ${health}`);
    };
    stopHeartbeat = every(1000, tick, {
      // The stream goes on while Redis is away; say so once, not every second.
      onFail: (err) => logger.warn(`heartbeat of ${who} failing (the stream goes on): ${errMessage(err)}`),
      onRecover: () => logger.info(`heartbeat of ${who} is back`),
    });

    await stopped;
  } catch (err) {
    failure = errMessage(err);
    logger.error(`stream ${who} could not run: ${failure}`);
  } finally {
    stopHeartbeat();
    offControl();
    offSceneData();
    await pipeline?.stop();
  }

  const s = pipeline?.stats() ?? { frames: 0, dropped: 0 };
  const bs = pipeline?.broadcast();
  const reason = failure ? `failed: ${failure}` : stopReason;
  if (stopReason === 'lease lost' || stopReason === 'replaced by another task') {
    logger.warn(`stream ${who}: ${stopReason}; leaving its state to the new owner`);
  } else {
    if (failure) await updateState(redis, key, p.taskId, { last_error: failure, frames: s.frames, dropped: s.dropped }).catch(() => {});
    await clearState(redis, key, p.taskId, reason, { keepFailed: !!failure }).catch((err) =>
      logger.error(`could not clear the state of ${who}: ${errMessage(err)}`),
    );
    await releaseLease(redis, key, ctx.workerId).catch(() => {});
  }
  if (sessionId !== null) {
    await ctx.sessions
      ?.end(sessionId, { stopReason: reason, frames: s.frames, dropped: s.dropped, restarts: restarts + (bs?.restarts ?? 0), lastError: failure ?? bs?.lastError ?? null })
      .catch((err) => logger.warn(`could not record the session end: ${errMessage(err)}`));
  }
  if (failure) logger.error(`❌ stream ${who} failed: ${failure}`);
  else logger.info(`✅ stream ${who} stopped (${stopReason}; ${s.frames} frames, ${s.dropped} dropped)`);
  return { ...base, outcome: failure ? 'failed' : 'stopped', reason, frames: s.frames };
}
