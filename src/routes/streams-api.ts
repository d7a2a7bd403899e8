// Stream Fighter's multi-stream API (seeds 000/001): list, start and stop named streams.
import { Router, type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { streamKeySchema } from '../jobs/definitions.js';
import { startStream, stopStream } from '../jobs/control.js';
import { listActive } from '../jobs/state.js';
import type { Queues } from '../jobs/producer.js';
import { checkScreen } from './stream.js';
import { parse } from './parse.js';

export const createBody = z.strictObject({
  screenId: z.string().min(1).max(64),
  streamKey: streamKeySchema,
  fps: z.number().int().min(1).max(60).default(15),
  quality: z.number().int().min(1).max(100).default(75),
  broadcastFps: z.number().int().min(1).max(60).optional(),
});

const deleteQuery = z.strictObject({ streamKey: streamKeySchema });

export function streamsApiRouter(d: { redis: Redis; queues: Queues; requireToken: RequestHandler }): Router {
  const r = Router();

  r.get('/api/stream', async (_req, res) => {
    const streams = (await listActive(d.redis)).map((s) => ({
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
    }));
    res.json({ streams, count: streams.length });
  });

  r.post('/api/stream', d.requireToken, async (req, res) => {
    const body = parse(createBody, req.body);
    checkScreen(body.screenId);
    const { taskId } = await startStream(d.redis, d.queues, body);
    res.status(201).json({ success: true, streamKey: body.streamKey, screenId: body.screenId, taskId });
  });

  r.delete('/api/stream', d.requireToken, async (req, res) => {
    const q = parse(deleteQuery, req.query);
    const { taskId } = await stopStream(d.redis, d.queues, q.streamKey);
    res.json({ success: true, streamKey: q.streamKey, taskId });
  });

  return r;
}
