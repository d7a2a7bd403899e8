// What the web process does to start and stop a stream: reserve the state atomically, then
// enqueue the job (parity: the start job does the rest; the stop job writes the signal).
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { conflict } from '../errors.js';
import { log, redactKey } from '../logger.js';
import type { StartPayload, StopPayload } from './schema.js';
import { clearState, readState, reserveStream, toStatus, type StreamStatus } from './state.js';
import { withIds } from './destinations.js';

export { addDestination, removeDestination } from './destinations.js';
import { noteEnded, type RequestedStreams } from './requested.js';
import { keys } from '../keys.js';

const logger = log('STREAM-API');

export interface StartRequest {
  streamKey: string;
  screenId: string;
  fps: number;
  quality: number;
  broadcastFps?: number;
  /** Where to broadcast (ids are given here); absent: the worker's RTMP_URL with the stream key. */
  destinations?: Array<{ url: string; name?: string }>;
  hls?: boolean;
}

/**
 * How control reaches the workers. The queues live above the stream domain (`jobs/producer.ts`
 * builds one of these from them), so the domain says what it sends, not how.
 */
export interface JobSender {
  start(payload: StartPayload, jobId: string): Promise<unknown>;
  stop(payload: StopPayload): Promise<{ id: string }>;
  /** Task ids of the start jobs waiting for a worker, and of those a worker has taken. */
  startJobs(): Promise<{ waiting: Set<string>; active: Set<string> }>;
  /** Enqueue a start task again under its own id (the job id), replacing any stale job of that id. */
  requeue(payload: StartPayload): Promise<void>;
  /** Remove a start task's job, wherever it is in the queue. */
  cancel(taskId: string): Promise<void>;
}

/**
 * Reserve the state, record the stream as requested (PostgreSQL, when this process has the
 * database), then enqueue. A start whose request cannot be recorded is refused and undone.
 */
export async function startStream(
  redis: Redis,
  jobs: JobSender,
  r: StartRequest,
  requested?: RequestedStreams,
  /** The stream is known to wait (no worker has room, issue 13): its state says so from the start. */
  opts: { waiting?: string } = {},
): Promise<{ taskId: string }> {
  const taskId = crypto.randomUUID();
  const now = Date.now() / 1000;
  const destinations = r.destinations ? withIds(r.destinations) : undefined;
  const current = await reserveStream(redis, r.streamKey, {
    active: 'true',
    task_id: taskId,
    fps: r.fps,
    quality: r.quality,
    stream_key: r.streamKey,
    screen_id: r.screenId,
    health: opts.waiting ? 'waiting' : 'queued',
    ...(opts.waiting ? { last_error: opts.waiting } : {}),
    requested_at: now,
    frames: 0,
    dropped: 0,
    restarts: 0,
    ...(r.broadcastFps ? { broadcast_fps: r.broadcastFps } : {}),
    ...(destinations ? { destinations: JSON.stringify(destinations) } : {}),
  });
  if (current) {
    throw conflict(`stream ${r.streamKey} is already active`, toStatus(r.streamKey, current));
  }
  const payload: StartPayload = { taskId, requestedAt: now, ...r, destinations };
  try {
    await requested?.put({ streamKey: r.streamKey, taskId, payload: { ...payload } });
    await jobs.start(payload, taskId);
  } catch (err) {
    // Undo the reservation: without a job nothing would ever run or clear it.
    await requested?.remove(r.streamKey, taskId).catch(() => {});
    await clearState(redis, r.streamKey, taskId, 'enqueue failed').catch(() => {});
    throw err;
  }
  logger.info(`✅ streaming task started: ${taskId} (${redactKey(r.streamKey)})`);
  return { taskId };
}

/**
 * Stop a stream: the stop job (the running start job sees its signal), and the stream is no
 * longer requested. A stream no worker runs yet (queued, waiting for a free worker) is cleared
 * here at once, its job removed. A requested stream whose Redis state was lost (the reconciler
 * has not rewritten it yet) can be stopped too.
 */
export async function stopStream(
  redis: Redis,
  jobs: JobSender,
  streamKey: string,
  reason = 'requested',
  requested?: RequestedStreams,
): Promise<{ taskId: string; streamTaskId: string }> {
  const state = await readState(redis, streamKey);
  const row = !state || state.active !== 'true' ? await requested?.get(streamKey) : null;
  const streamTaskId = state?.active === 'true' ? state.task_id : row?.taskId;
  if (!streamTaskId) {
    throw conflict(`stream ${streamKey} is not active`, toStatus(streamKey, state));
  }
  logger.info(`sending stop signal for ${redactKey(streamKey)}...`);
  const job = await jobs.stop({ taskId: streamTaskId, streamKey, reason });
  await noteEnded(redis, streamTaskId, reason);
  await requested?.remove(streamKey, streamTaskId);
  if (!(await redis.exists(keys.lease(streamKey)))) {
    // Nobody runs it: no start job will see the signal in time (the stop key lives 60 s).
    await jobs.cancel(streamTaskId).catch(() => {});
    await clearState(redis, streamKey, streamTaskId, reason);
  }
  logger.info(`✅ stop signal sent: ${job.id}`);
  return { taskId: String(job.id), streamTaskId };
}

export async function streamStatus(redis: Redis, streamKey: string): Promise<StreamStatus> {
  return toStatus(streamKey, await readState(redis, streamKey));
}

