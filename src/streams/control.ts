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
}

export async function startStream(redis: Redis, jobs: JobSender, r: StartRequest): Promise<{ taskId: string }> {
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
    health: 'queued',
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
  try {
    await jobs.start({ taskId, requestedAt: now, ...r, destinations }, taskId);
  } catch (err) {
    // Undo the reservation: without a job nothing would ever run or clear it.
    await clearState(redis, r.streamKey, taskId, 'enqueue failed').catch(() => {});
    throw err;
  }
  logger.info(`✅ streaming task started: ${taskId} (${redactKey(r.streamKey)})`);
  return { taskId };
}

export async function stopStream(
  redis: Redis,
  jobs: JobSender,
  streamKey: string,
  reason = 'requested',
): Promise<{ taskId: string; streamTaskId: string }> {
  const state = await readState(redis, streamKey);
  if (!state || state.active !== 'true' || !state.task_id) {
    throw conflict(`stream ${streamKey} is not active`, toStatus(streamKey, state));
  }
  logger.info(`sending stop signal for ${redactKey(streamKey)}...`);
  const job = await jobs.stop({ taskId: state.task_id, streamKey, reason });
  logger.info(`✅ stop signal sent: ${job.id}`);
  return { taskId: String(job.id), streamTaskId: state.task_id };
}

export async function streamStatus(redis: Redis, streamKey: string): Promise<StreamStatus> {
  return toStatus(streamKey, await readState(redis, streamKey));
}

