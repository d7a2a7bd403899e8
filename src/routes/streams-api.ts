// Stream Fighter's multi-stream API (seeds 000/001): list, start and stop named streams.
import { Router, type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { checkScreen, screenIdSchema, startParams, streamKeySchema } from '../streams/schema.js';
import { startStream, stopStream } from '../streams/control.js';
import { listActive } from '../streams/state.js';
import { jobSender, type Queues } from '../jobs/producer.js';
import { parse } from './parse.js';

export const createBody = z.strictObject({
  screenId: screenIdSchema,
  streamKey: streamKeySchema,
  ...startParams,
});

export const deleteQuery = z.strictObject({ streamKey: streamKeySchema });

export function streamsApiRouter(d: { redis: Redis; queues: Queues; requireToken: RequestHandler }): Router {
  const r = Router();
  const jobs = jobSender(d.queues);

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
    const { taskId } = await startStream(d.redis, jobs, body);
    res.status(201).json({ success: true, streamKey: body.streamKey, screenId: body.screenId, taskId });
  });

  r.delete('/api/stream', d.requireToken, async (req, res) => {
    const q = parse(deleteQuery, req.query);
    const { taskId } = await stopStream(d.redis, jobs, q.streamKey);
    res.json({ success: true, streamKey: q.streamKey, taskId });
  });

  return r;
}
