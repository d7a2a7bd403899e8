// The stream state hash (`streaming:state[:key]`) and the operations on it. The Python fields
// keep their names and string encodings; ours sit beside them.
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { defineScripts } from '../redis/index.js';
import { publishEvent } from './bus.js';

export type Health = 'queued' | 'waiting' | 'starting' | 'live' | 'reconnecting' | 'failed';

/** What `GET /stream/status` answers: the Python shape first, then ours. */
export interface StreamStatus {
  active: boolean;
  fps: number | null;
  quality: number | null;
  task_id: string | null;
  host: string | null;
  port: number | null;
  started_at: number | null;
  stream_key: string;
  screen_id: string | null;
  health: string | null;
  frames: number;
  dropped: number;
  restarts: number;
  last_error: string | null;
  worker_id: string | null;
  heartbeat_at: number | null;
  broadcast_fps: number | null;
  /** While reconnecting: since when (unix seconds) the destination has been down. */
  down_since: number | null;
}

const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));

export function toStatus(streamKey: string, h: Record<string, string> | null): StreamStatus {
  const s = h ?? {};
  return {
    active: s.active === 'true',
    fps: num(s.fps),
    quality: num(s.quality),
    task_id: s.task_id || null,
    host: s.host || null,
    port: num(s.port),
    started_at: num(s.started_at),
    stream_key: streamKey,
    screen_id: s.screen_id || null,
    health: s.health || null,
    frames: num(s.frames) ?? 0,
    dropped: num(s.dropped) ?? 0,
    restarts: num(s.restarts) ?? 0,
    last_error: s.last_error || null,
    worker_id: s.worker_id || null,
    heartbeat_at: num(s.heartbeat_at),
    broadcast_fps: num(s.broadcast_fps),
    down_since: num(s.down_since),
  };
}

export async function readState(redis: Redis, streamKey: string): Promise<Record<string, string> | null> {
  const h = await redis.hgetall(keys.state(streamKey));
  return Object.keys(h).length ? h : null;
}

export async function isActive(redis: Redis, streamKey: string): Promise<boolean> {
  return (await redis.hget(keys.state(streamKey), 'active')) === 'true';
}

// Check-and-reserve in one step, so two concurrent starts cannot both pass the "is it active?"
// check the Python version made before enqueueing. Returns the current state when active.
export async function reserveStream(
  redis: Redis,
  streamKey: string,
  fields: Record<string, string | number>,
): Promise<Record<string, string> | null> {
  const flat = Object.entries(fields).flatMap(([k, v]) => [k, String(v)]);
  const res = await defineScripts(redis).stateReserve(
    [keys.state(streamKey), keys.stopRequested(streamKey), keys.active()],
    [streamKey, ...flat],
  );
  if (!res) return null;
  const current: Record<string, string> = {};
  for (let i = 0; i < res.length; i += 2) current[res[i]] = res[i + 1];
  return current;
}

// Update fields only while the hash is still ours (same task); a stopped or taken-over stream
// must not be resurrected by a late write.
export async function updateState(
  redis: Redis,
  streamKey: string,
  taskId: string,
  fields: Record<string, string | number>,
): Promise<boolean> {
  const flat = Object.entries(fields).flatMap(([k, v]) => [k, String(v)]);
  return (await defineScripts(redis).stateUpdateIfOwner([keys.state(streamKey)], [taskId, ...flat])) === 1;
}

/** Signal a stop: the parity key (TTL 60 s) plus the fast channel. */
export async function requestStop(redis: Redis, streamKey: string): Promise<void> {
  await redis.multi().set(keys.stopRequested(streamKey), 'true', 'EX', 60).publish(keys.control(), streamKey).exec();
}

/**
 * Remove a stream's keys (only if it is still the given task's) and tell every web node.
 * A failed stream keeps its hash (active=false, health=failed) for an hour for diagnosis.
 */
export async function clearState(
  redis: Redis,
  streamKey: string,
  taskId: string,
  reason: string,
  opts: { keepFailed?: boolean } = {},
): Promise<boolean> {
  const done =
    (await defineScripts(redis).stateClear(
      [keys.state(streamKey), keys.stopRequested(streamKey), keys.active(), keys.lease(streamKey), keys.lastFrame(streamKey)],
      [taskId, streamKey, opts.keepFailed ? '1' : '0', String(Date.now() / 1000)],
    )) === 1;
  await publishEvent(redis, { type: 'ended', streamKey, taskId, reason });
  return done;
}

/** Rewrite a running stream's hash and its place in the active set (Redis restarted empty). */
export async function restoreState(redis: Redis, streamKey: string, fields: Record<string, string | number>): Promise<void> {
  await redis.multi().hset(keys.state(streamKey), fields).sadd(keys.active(), streamKey).exec();
}

export async function listActive(redis: Redis): Promise<StreamStatus[]> {
  const members = await redis.smembers(keys.active());
  if (!members.length) return [];
  const pipe = redis.pipeline();
  for (const k of members) pipe.hgetall(keys.state(k));
  const res = (await pipe.exec()) ?? [];
  return members
    .map((k, i) => toStatus(k, (res[i]?.[1] as Record<string, string>) ?? null))
    .filter((s) => s.active)
    .sort((a, b) => a.stream_key.localeCompare(b.stream_key));
}
