// The requested streams: the desired state that survives a Redis loss. A stream is requested
// from the moment a start is accepted until it is stopped (API, dashboard, parity keys) or fails
// for good; the reconciler makes Redis and the workers agree with this set. The domain owns the
// port; the database implements it (db/requested.ts) and roles.ts hands it down. A process
// without a database (a worker with no DATABASE_URL) has none and leaves a note in Redis instead.
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';

export interface RequestedStream {
  streamKey: string;
  taskId: string;
  /** The whole start payload (StartPayload and whatever fields it grows), as JSON. */
  payload: Record<string, unknown>;
  requestedAt: Date;
}

export interface RequestedStreams {
  /** Insert or replace the stream's row (a new start replaces an old task's row). */
  put(r: { streamKey: string; taskId: string; payload: Record<string, unknown> }): Promise<void>;
  /** Delete the stream's row; with a task id, only if the row is still that task's. */
  remove(streamKey: string, taskId?: string): Promise<boolean>;
  get(streamKey: string): Promise<RequestedStream | null>;
  list(): Promise<RequestedStream[]>;
}

/** How long the note "task X was stopped" stays in Redis for a reconciler to read. */
const ENDED_TTL_SECONDS = 24 * 3600;

/**
 * A start job that ended because the stream was stopped (or failed for good) says so in Redis
 * too, for the case it could not delete the row itself (no database in its process): the
 * reconciler then deletes the row instead of resurrecting the stream.
 */
export async function noteEnded(redis: Redis, taskId: string, reason: string): Promise<void> {
  await redis.set(keys.ended(taskId), reason, 'EX', ENDED_TTL_SECONDS);
}

export async function endedReason(redis: Redis, taskId: string): Promise<string | null> {
  return redis.get(keys.ended(taskId));
}

/** Forget a stopped stream: the row when this process has the database, the note always. */
export async function unrequest(redis: Redis, requested: RequestedStreams | undefined, streamKey: string, taskId: string, reason: string): Promise<void> {
  await Promise.all([noteEnded(redis, taskId, reason), requested?.remove(streamKey, taskId)]);
}
