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

/** Task ids (= job ids) of the start jobs in one of bee-queue's lists. */
async function startIds(queues: Queues, list: 'waiting' | 'active'): Promise<Set<string>> {
  const jobs = await queues.start.getJobs(list, { start: 0, end: -1 });
  return new Set(jobs.map((j) => String(j.id)));
}

/**
 * Enqueue a start task under its own id. bee-queue refuses an id its jobs hash still holds (it
 * answers a job with a null id): that is a stale job (its worker died or handed it over), so it
 * is removed from every list first and the task is enqueued again.
 */
export async function requeueStart(queues: Queues, payload: JobPayload<'start'>): Promise<void> {
  const id = payload.taskId;
  const job = await enqueue(queues, 'start', payload, { jobId: id });
  if (job.id) return;
  await queues.start.removeJob(id);
  const again = await enqueue(queues, 'start', payload, { jobId: id });
  if (!again.id) throw new Error(`could not enqueue start task ${id}: its job id is taken`);
}

/** The stream domain's way to reach the workers, over these queues. */
export function jobSender(queues: Queues): JobSender {
  return {
    start: (payload, jobId) => enqueue(queues, 'start', payload, { jobId }),
    stop: async (payload) => ({ id: String((await enqueue(queues, 'stop', payload)).id) }),
    startJobs: async () => {
      const [waiting, active] = await Promise.all([startIds(queues, 'waiting'), startIds(queues, 'active')]);
      return { waiting, active };
    },
    requeue: (payload) => requeueStart(queues, payload),
    cancel: async (taskId) => {
      await queues.start.removeJob(taskId);
    },
  };
}
