// One-line hooks for the code paths the metrics watch as things happen.
import type { AppError } from '../errors.js';
import { observeEncodeLatency } from '../render/threaded-pipeline.js';
import { encodeLatencySeconds, jobPickupSeconds, votesTotal } from './registry.js';

// Every render thread's latencies land in the one histogram of this process.
observeEncodeLatency((seconds) => encodeLatencySeconds.observe(seconds));

/** The result label of a vote's outcome (the error factories' ids and reasons). */
export function voteResult(err: unknown): string {
  if (!err) return 'accepted';
  const e = err as Partial<AppError> & { details?: { reason?: string } };
  if (e.status === 409) return e.details?.reason === 'already_voted' ? 'duplicate' : 'closed';
  if (e.status === 404) return 'no_poll';
  if (e.status === 400) return 'invalid';
  return 'error';
}

/** Counts a vote by its outcome and passes it on unchanged: `return countVote(this.voting.vote(...))`. */
export async function countVote<T>(vote: Promise<T>): Promise<T> {
  try {
    const r = await vote;
    votesTotal.inc({ result: 'accepted' });
    return r;
  } catch (err) {
    votesTotal.inc({ result: voteResult(err) });
    throw err;
  }
}

/** Time a bee-queue job waited for a worker (bee-queue stamps options.timestamp when it is created). */
export function observePickup(queue: string, job: { options?: { timestamp?: number } }): void {
  const created = job.options?.timestamp;
  if (typeof created === 'number' && created > 0) jobPickupSeconds.observe({ queue }, Math.max(0, Date.now() - created) / 1000);
}
