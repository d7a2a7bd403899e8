// Stream Fighter's multi-stream API (seeds 000/001): list, start and stop named streams; one
// stream with its destinations, which can be added and removed while it runs.
import { Router, type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { checkScreen, destinationId, destinationInput, screenIdSchema, startParams, streamKeySchema } from '../streams/schema.js';
import { addDestination, removeDestination } from '../streams/control.js';
import { destinationViews } from '../streams/destinations.js';
import { readState, toStatus, type StreamStatus } from '../streams/state.js';
import { AppError, conflict, notFound } from '../errors.js';
import { startStream, stopStream } from '../streams/control.js';
import { listActive } from '../streams/state.js';
import { jobSender, type Queues } from '../jobs/producer.js';
import type { RequestedStreams } from '../streams/requested.js';
import { NO_CAPACITY, clusterHasRoom } from '../streams/worker-beats.js';
import { parse } from './parse.js';

export const createBody = z.strictObject({
  // Optional: the default scene (DEFAULT_SCREEN); seed ids such as `test` are accepted.
  screenId: screenIdSchema.optional(),
  streamKey: streamKeySchema,
  ...startParams,
  /** false: when no worker has room now, refuse (503 + Retry-After) instead of waiting (202). */
  wait: z.boolean().optional(),
});

export const deleteQuery = z.strictObject({ streamKey: streamKeySchema });
export const keyParams = z.object({ streamKey: streamKeySchema });
export const destParams = z.object({ streamKey: streamKeySchema, id: destinationId });

function view(s: StreamStatus) {
  return {
    streamKey: s.stream_key,
    screenId: s.screen_id,
    fps: s.fps,
    broadcastFps: s.broadcast_fps,
    quality: s.quality,
    health: s.health,
    startedAt: s.started_at,
    frames: s.frames,
    dropped: s.dropped,
    restarts: s.restarts,
    lastError: s.last_error,
    taskId: s.task_id,
    workerId: s.worker_id,
  };
}

export interface StreamsApiDeps {
  redis: Redis;
  queues: Queues;
  requireToken: RequestHandler;
  /** The scene of a stream started without a screenId (DEFAULT_SCREEN). */
  defaultScreen?: string;
  /** The requested streams (PostgreSQL): a start is recorded there, a stop forgets it. */
  requested?: RequestedStreams;
  /**
   * ADMISSION=measured (issue 13): a start is answered at once by the workers' advertised room
   * (their heartbeats): 201 with room, 202 waiting without, 503 when the caller said `wait: false`.
   */
  admission?: { heartbeatTtlSeconds: number; retryAfterSeconds: number };
}

/** 503 for a start that would wait and was asked not to: nothing was reserved, recorded or enqueued. */
function noCapacity(retryAfter: number): AppError {
  const e = new AppError(503, 'no_capacity', `no worker has room for another stream now; nothing was started (retry after ${retryAfter} s, or send wait: true to queue it)`, { health: 'waiting', reason: NO_CAPACITY });
  e.retryAfter = retryAfter;
  return e;
}

export function streamsApiRouter(d: StreamsApiDeps): Router {
  const r = Router();
  const jobs = jobSender(d.queues);

  r.get('/api/stream', async (_req, res) => {
    const streams = (await listActive(d.redis)).map(view);
    res.json({ streams, count: streams.length });
  });

  // One stream (active, or failed within the hour) with each destination's status; keys redacted.
  r.get('/api/stream/:streamKey', async (req, res) => {
    const { streamKey } = parse(keyParams, req.params);
    const state = await readState(d.redis, streamKey);
    if (!state) throw notFound(`no stream ${streamKey}`);
    res.json({
      ...view(toStatus(streamKey, state)),
      active: state.active === 'true',
      destinations: destinationViews(state),
      hls: state.hls === '1' ? `/hls/${streamKey}/index.m3u8` : null,
    });
  });

  r.post('/api/stream/:streamKey/destinations', d.requireToken, async (req, res) => {
    const { streamKey } = parse(keyParams, req.params);
    const body = parse(destinationInput, req.body);
    const dest = await addDestination(d.redis, streamKey, body);
    res.status(201).json({ success: true, streamKey, id: dest.id, name: dest.name ?? '' });
  });

  r.delete('/api/stream/:streamKey/destinations/:id', d.requireToken, async (req, res) => {
    const { streamKey, id } = parse(destParams, req.params);
    await removeDestination(d.redis, streamKey, id);
    res.json({ success: true, streamKey, id });
  });

  r.post('/api/stream', d.requireToken, async (req, res) => {
    const { wait, ...body } = parse(createBody, req.body);
    const screenId = checkScreen(body.screenId ?? d.defaultScreen ?? 'poll');
    const room = d.admission ? await clusterHasRoom(d.redis, d.admission.heartbeatTtlSeconds) : true;
    if (!room && wait === false) {
      // An active stream is a conflict whatever the capacity (what a start of it answers anyway).
      const current = await readState(d.redis, body.streamKey);
      if (current?.active === 'true') throw conflict(`stream ${body.streamKey} is already active`, toStatus(body.streamKey, current));
      throw noCapacity(d.admission!.retryAfterSeconds);
    }
    const { taskId } = await startStream(d.redis, jobs, { ...body, screenId }, d.requested, room ? {} : { waiting: NO_CAPACITY });
    const started = { success: true, streamKey: body.streamKey, screenId, taskId };
    // 202: accepted and requested; it starts by itself when a worker has room (parity: 201 with room).
    if (room) res.status(201).json(started);
    else res.status(202).json({ ...started, health: 'waiting', reason: NO_CAPACITY });
  });

  r.delete('/api/stream', d.requireToken, async (req, res) => {
    const q = parse(deleteQuery, req.query);
    const { taskId } = await stopStream(d.redis, jobs, q.streamKey, 'requested', d.requested);
    res.json({ success: true, streamKey: q.streamKey, taskId });
  });

  return r;
}
