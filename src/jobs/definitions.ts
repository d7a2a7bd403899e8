// Job names, their queues and payload schemas in one map (parity with the Celery tasks).
// Producers enqueue through `enqueue()`; the worker parses job.data with the same schema.
// The payloads are the stream domain's (`streams/schema.ts`): one source for every range.
import type { z } from 'zod';
import { startPayload, statusPayload, stopPayload } from '../streams/schema.js';

export { startPayload, statusPayload, stopPayload, type StartPayload, type StopPayload } from '../streams/schema.js';

export const JOBS = {
  start: { queue: 'stream-start', schema: startPayload },
  stop: { queue: 'stream-stop', schema: stopPayload },
  status: { queue: 'stream-status', schema: statusPayload },
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['schema']>;
