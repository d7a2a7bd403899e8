// Typed enqueueing for the web process (producer-only queues).
import type Queue from 'bee-queue';
import type { Redis } from 'ioredis';
import { closeQueue, createQueue } from '../queue.js';
import type { JobSender } from '../streams/control.js';
import { JOBS, type JobName, type JobPayload } from './definitions.js';

export type Queues = { [N in JobName]: Queue<JobPayload<N>> };

export function createQueues(
  redisUrl: string,
  opts: { prefix: string; isWorker: boolean; getEvents?: boolean; /** the process's command client (queue.ts) */ watch?: Redis },
): Queues {
  return {
    start: createQueue(JOBS.start.queue, { redisUrl, ...opts }),
    stop: createQueue(JOBS.stop.queue, { redisUrl, ...opts }),
    status: createQueue(JOBS.status.queue, { redisUrl, ...opts }),
  };
}

export async function enqueue<N extends JobName>(
  queues: Queues,
  name: N,
  data: JobPayload<N>,
  opts: { jobId?: string; timeoutMs?: number } = {},
): Promise<Queue.Job<JobPayload<N>>> {
  const payload = JOBS[name].schema.parse(data) as JobPayload<N>;
  const queue = queues[name] as Queue<JobPayload<N>>;
  const job = queue.createJob(payload);
  if (opts.jobId) job.setId(opts.jobId);
  if (opts.timeoutMs) job.timeout(opts.timeoutMs);
  return job.save();
}

/** Close all three; the start queue may wait for running streams up to `startTimeoutMs`. */
export async function closeQueues(queues: Queues, startTimeoutMs = 2000): Promise<void> {
  await Promise.all([
    closeQueue(queues.start, startTimeoutMs),
    closeQueue(queues.stop, 2000),
    closeQueue(queues.status, 2000),
  ]);
}

/** The stream domain's way to reach the workers, over these queues. */
export function jobSender(queues: Queues): JobSender {
  return {
    start: (payload, jobId) => enqueue(queues, 'start', payload, { jobId }),
    stop: async (payload) => ({ id: String((await enqueue(queues, 'stop', payload)).id) }),
  };
}
