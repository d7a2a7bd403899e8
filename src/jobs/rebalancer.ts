// Rebalancing, the doing (issue 13, item 4; the decision is rebalance.ts). After each load tick,
// while the worker is over its headroom, it reads the other workers' heartbeats and, when the
// decision says so, hands one stream over with the SIGTERM handover's means: the same task id
// enqueued again, for whichever worker claims it first. Two differences, because this worker's
// queue stays open: the job stops here still holding its lease, and only once bee-queue has
// finished the job (which deletes its id: an enqueue before that would be lost) is the lease
// released and the task enqueued again. This worker then refuses the task for a while (it would
// only be over its headroom again): a claim of it here is passed straight back to the queue,
// where the other workers are now ahead of this one.
import type { Redis } from 'ioredis';
import { log, errMessage, redactKey } from '../logger.js';
import { keys } from '../keys.js';
import type { JobSender } from '../streams/control.js';
import { releaseLease } from '../streams/lease.js';
import type { StartPayload } from '../streams/schema.js';
import { readState, updateState } from '../streams/state.js';
import { readBeats } from '../streams/worker-beats.js';
import type { WorkerLoad } from './admission.js';
import { IDLE_REBALANCE, decideRebalance, type RebalanceState } from './rebalance.js';

const logger = log('STREAMING-TASK');

/** Times a handed-away task is enqueued again by this worker (the handover, then passes back). */
const MAX_ENQUEUES = 4;

export interface RebalancerDeps {
  redis: Redis;
  workerId: string;
  heartbeatTtlSeconds: number;
  /** REBALANCE_GRACE_SECONDS in ms (0: never). */
  graceMs: number;
  load: WorkerLoad;
  /** The running start jobs (their stream key, payload and handover). */
  jobs: () => Iterable<{ key: string; p: StartPayload; handOver(jobs: null, to: string): Promise<void> }>;
  sender: () => JobSender | null;
}

export class Rebalancer {
  private state: RebalanceState = IDLE_REBALANCE;
  /** Tasks handed away: until when (ms) this worker refuses them, and how often it enqueued each. */
  private readonly away = new Map<string, { until: number; enqueued: number }>();

  constructor(private readonly d: RebalancerDeps) {}

  async tick(now = Date.now()): Promise<void> {
    const { load, workerId } = this.d;
    if (this.d.graceMs <= 0 || (!load.over && this.state.overSince === null)) return;
    const beats = load.over ? await readBeats(this.d.redis, this.d.heartbeatTtlSeconds, now) : [];
    const others = beats.flatMap((b) => (b.id !== workerId && b.capacity ? [{ id: b.id, headroom: b.capacity.headroom, shedLevel: b.capacity.shedLevel }] : []));
    const { state, handover } = decideRebalance(this.state, { now, graceMs: this.d.graceMs, over: load.over, streams: load.streamsSince(), others });
    this.state = state;
    const job = handover && [...this.d.jobs()].find((j) => j.key === handover.streamKey);
    if (!handover || !job) return;
    for (const [id, a] of this.away) if (a.until < now) this.away.delete(id);
    this.away.set(job.p.taskId, { until: now + Math.max(60_000, 2 * this.d.graceMs), enqueued: 0 });
    load.counts.handovers += 1;
    const s = load.snapshot();
    const room = others.find((o) => o.id === handover.to)?.headroom;
    logger.warn(
      `rebalancing: worker ${workerId} hands stream ${redactKey(job.key)} (task ${job.p.taskId}, its newest) to the cluster, over its headroom for ${Math.round(handover.overMs / 1000)} s (shed level ${s.shedLevel}, ${s.cpuAvailable ?? '?'} cores available); worker ${handover.to} advertises room for ${room}`,
    );
    await job.handOver(null, handover.to);
  }

  /** A task this worker handed away lately: it must not claim it. */
  refuses(taskId: string, now = Date.now()): boolean {
    return (this.away.get(taskId)?.until ?? 0) >= now;
  }

  /**
   * bee-queue has finished a start job (its id is free again): a handed-away task, or one this
   * worker just passed back, is enqueued again under its own id, its lease released first,
   * unless it was stopped meanwhile or another worker holds it already.
   */
  async finished(p: StartPayload): Promise<void> {
    const a = this.away.get(p.taskId);
    const sender = this.d.sender();
    if (!a || !sender || a.enqueued >= MAX_ENQUEUES) return;
    a.enqueued += 1;
    const { redis, workerId } = this.d;
    try {
      await releaseLease(redis, p.streamKey, workerId);
      const st = await readState(redis, p.streamKey);
      if (!st || st.task_id !== p.taskId || st.active !== 'true' || (await redis.exists(keys.lease(p.streamKey)))) return;
      await sender.requeue(p);
      await updateState(redis, p.streamKey, p.taskId, { queued_at: Date.now() / 1000 });
      logger.debug(`rebalancing: task ${p.taskId} enqueued again (${a.enqueued} of at most ${MAX_ENQUEUES})`);
    } catch (err) {
      logger.warn(`rebalancing: could not enqueue task ${p.taskId} again (the reconciler will): ${errMessage(err)}`);
    }
  }
}
