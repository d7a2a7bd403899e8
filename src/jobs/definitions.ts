// Job names, their queues and payload schemas in one map (parity with the Celery tasks).
// Producers enqueue through `enqueue()`; the worker parses job.data with the same schema.
import { z } from 'zod';
import { STREAM_KEY_RE } from '../config.js';

export const streamKeySchema = z
  .string()
  .regex(STREAM_KEY_RE, 'stream key: 1-64 characters of A-Z a-z 0-9 _ -');

export const startPayload = z.object({
  taskId: z.string().uuid(),
  streamKey: streamKeySchema,
  screenId: z.string().min(1).max(64),
  fps: z.number().int().min(1).max(60),
  quality: z.number().int().min(1).max(100),
  broadcastFps: z.number().int().min(1).max(60).optional(),
  requestedAt: z.number(),
});

export const stopPayload = z.object({
  taskId: z.string().uuid(),
  streamKey: streamKeySchema,
  reason: z.string().max(200).default('requested'),
});

export const statusPayload = z.object({
  streamKey: streamKeySchema,
});

export const JOBS = {
  start: { queue: 'stream-start', schema: startPayload },
  stop: { queue: 'stream-stop', schema: stopPayload },
  status: { queue: 'stream-status', schema: statusPayload },
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['schema']>;
export type StartPayload = JobPayload<'start'>;
export type StopPayload = JobPayload<'stop'>;
