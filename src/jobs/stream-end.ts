// What a stream's end leaves behind (StreamJob.release): its keys cleared when it was stopped or
// failed for good (and its request forgotten), or kept for the next owner when another worker
// took it or this one handed it over; then its session closed.
import { log, errMessage } from '../logger.js';
import { releaseLease } from '../streams/lease.js';
import { unrequest } from '../streams/requested.js';
import type { StartPayload } from '../streams/schema.js';
import { clearState, updateState } from '../streams/state.js';
import type { StartContext } from './job-context.js';
import { endsRequest, handedOver } from './stop-signals.js';

const logger = log('STREAMING-TASK');

export interface StreamEnd {
  /** Who, for log lines (the stream key redacted). */
  who: string;
  stopReason: string;
  failure: string | null;
  /** What the session and the lifecycle event record. */
  reason: string;
  frames: number;
  dropped: number;
  restarts: number;
  lastError: string | null;
  sessionId: number | null;
}

export async function settleStreamEnd(ctx: StartContext, p: StartPayload, e: StreamEnd): Promise<void> {
  const { redis, workerId } = ctx;
  const key = p.streamKey;
  if (handedOver(e.stopReason)) {
    logger.warn(`stream ${e.who}: ${e.stopReason}; leaving its state to the new owner`);
  } else if (!e.failure && !endsRequest(e.stopReason)) {
    // Shutting down: the stream stays requested (handOver() enqueued it again; if that failed,
    // the reconciler will). Its state stays for the next owner. Rebalancing keeps the lease: the
    // runtime releases it as it enqueues the task again (its TTL ends it if that never comes).
    if (e.stopReason !== 'rebalance') await releaseLease(redis, key, workerId).catch(() => {});
    logger.info(`stream ${e.who} left to another worker (${e.reason})`);
  } else {
    if (e.failure) await updateState(redis, key, p.taskId, { last_error: e.failure, frames: e.frames, dropped: e.dropped }).catch(() => {});
    await clearState(redis, key, p.taskId, e.reason, { keepFailed: !!e.failure }).catch((err) =>
      logger.error(`could not clear the state of ${e.who}: ${errMessage(err)}`),
    );
    await releaseLease(redis, key, workerId).catch(() => {});
    // Stopped (API, dashboard, parity keys) or failed for good: no longer requested.
    await unrequest(redis, ctx.requested, key, p.taskId, e.reason).catch((err) =>
      logger.warn(`could not forget the requested stream ${e.who}: ${errMessage(err)}`),
    );
  }
  if (e.sessionId !== null) {
    await ctx.sessions
      ?.end(e.sessionId, { stopReason: e.reason, frames: e.frames, dropped: e.dropped, restarts: e.restarts, lastError: e.lastError })
      .catch((err) => logger.warn(`could not record the session end: ${errMessage(err)}`));
  }
}
