// The start job as an object, against the real Redis and a real render thread (previews only):
// each of the five stop sources stops it, and it cleans up, or leaves the stream to its new
// owner, as the source says.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { StreamJob } from '../src/jobs/stream-job.js';
import type { StartContext, StartResult } from '../src/jobs/job-context.js';
import { reserveStream } from '../src/streams/state.js';
import type { StartPayload } from '../src/streams/schema.js';
import { RUN_ID, testConfig, uniqueKey, waitFor } from './helpers/env.js';
import { closeQueues, createQueues, jobSender } from '../src/jobs/producer.js';
import { migrate, openDatabase, type Database } from '../src/db/index.js';
import { PgRequestedStreams } from '../src/streams/requested-pg.js';
import type { RequestedStreams } from '../src/streams/requested.js';

describe('StreamJob and its stop signals', function () {
  this.timeout(60_000);
  const config = testConfig();
  let redis: Redis;
  const made: string[] = [];

  let db: Database;
  before(async () => {
    redis = new Redis(config.REDIS_URL);
    db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: '' });
    await migrate(db.pool);
  });
  after(async () => {
    await db?.close();
    for (const k of made) await redis.del(keys.state(k), keys.stopRequested(k), keys.lease(k));
    if (made.length) await redis.srem(keys.active(), ...made);
    redis.disconnect();
  });

  interface Running {
    key: string;
    payload: StartPayload;
    job: StreamJob;
    done: Promise<StartResult>;
    /** The fast channel's callback, as the worker's subscriber would call it. */
    control(): void;
    shutdown(): void;
  }

  async function startJob(label: string, requested?: RequestedStreams): Promise<Running> {
    const key = uniqueKey(label);
    made.push(key);
    const payload: StartPayload = { taskId: crypto.randomUUID(), streamKey: key, screenId: 'testcard', fps: 10, quality: 60, requestedAt: Date.now() / 1000 };
    await reserveStream(redis, key, { active: 'true', task_id: payload.taskId, fps: 10, quality: 60, stream_key: key, screen_id: 'testcard', health: 'queued', requested_at: payload.requestedAt, frames: 0, dropped: 0, restarts: 0 });
    const controls = new Map<string, (reason: string) => void>();
    let shutdown!: () => void;
    const ctx: StartContext = {
      config,
      redis,
      workerId: `test-worker-${label}`,
      requested,
      shuttingDown: new Promise<void>((r) => (shutdown = r)),
      onControl: (k, stop) => {
        controls.set(k, stop);
        return () => controls.delete(k);
      },
    };
    const job = new StreamJob(ctx, payload);
    const done = job.execute();
    await waitFor(async () => (await redis.hget(keys.state(key), 'health')) === 'live', 20_000, 50, 'the stream live');
    return { key, payload, job, done, control: () => controls.get(key)?.('requested'), shutdown };
  }

  async function expectCleared(r: Running): Promise<void> {
    await waitFor(async () => !(await redis.exists(keys.state(r.key))), 5000, 20, 'state cleared');
    expect(await redis.exists(keys.lease(r.key))).to.equal(0);
    expect(await redis.sismember(keys.active(), r.key)).to.equal(0);
  }

  it('stops on the fast channel (sf:control)', async () => {
    const r = await startJob('fast');
    r.control();
    expect(await r.done).to.include({ outcome: 'stopped', reason: 'requested' });
    await expectCleared(r);
  });

  it('stops on the parity key streaming:stop_requested, polled every second', async () => {
    const r = await startJob('parity');
    await redis.set(keys.stopRequested(r.key), 'true', 'EX', 60);
    expect(await r.done).to.include({ outcome: 'stopped', reason: 'requested' });
    await expectCleared(r);
  });

  it('stops when its state hash is deleted (same Redis server)', async () => {
    const r = await startJob('deleted');
    await redis.del(keys.state(r.key));
    expect(await r.done).to.include({ outcome: 'stopped', reason: 'state removed' });
    expect(await redis.exists(keys.lease(r.key))).to.equal(0);
  });

  it('on worker shutdown leaves the stream requested: its state stays, its lease is freed', async () => {
    const r = await startJob('shutdown');
    r.shutdown();
    expect(await r.done).to.include({ outcome: 'handed-off', reason: 'handed over (worker shutting down)' });
    expect(await redis.hget(keys.state(r.key), 'active')).to.equal('true');
    expect(await redis.hget(keys.state(r.key), 'task_id')).to.equal(r.payload.taskId);
    expect(await redis.exists(keys.lease(r.key))).to.equal(0);
    expect(await redis.exists(keys.ended(r.payload.taskId))).to.equal(0);
  });

  it('hands over: lease released and the task enqueued again (same id) while the stream still runs', async () => {
    const r = await startJob('handover');
    const queues = createQueues(config.REDIS_URL, { prefix: config.QUEUE_PREFIX, isWorker: false });
    try {
      const sender = jobSender(queues);
      let framesAtRequeue = -1;
      const requeue = sender.requeue;
      sender.requeue = async (p) => {
        await requeue(p);
        framesAtRequeue = Number(await redis.hget(keys.state(r.key), 'frames'));
      };
      await r.job.handOver(sender);
      expect((await sender.startJobs()).waiting.has(r.payload.taskId)).to.equal(true);
      // The stream was still rendering when its task was enqueued again (FFmpeg ends after).
      expect(framesAtRequeue).to.be.above(0);
      expect(await r.done).to.include({ outcome: 'handed-off' });
      expect(await redis.hget(keys.state(r.key), 'active')).to.equal('true');
      expect(await redis.hget(keys.state(r.key), 'last_error')).to.match(/^handed over by worker test-worker-handover/);
      expect(await redis.exists(keys.lease(r.key))).to.equal(0);
      await sender.cancel(r.payload.taskId);
    } finally {
      await closeQueues(queues);
    }
  });

  it('a stopped stream is no longer requested (row deleted, note left for other processes)', async () => {
    const requested = new PgRequestedStreams(db.pool, `test-${RUN_ID}`);
    const r = await startJob('unrequest', requested);
    await requested.put({ streamKey: r.key, taskId: r.payload.taskId, payload: { ...r.payload } });
    r.control();
    expect(await r.done).to.include({ outcome: 'stopped', reason: 'requested' });
    expect(await requested.get(r.key)).to.equal(null);
    expect(await redis.get(keys.ended(r.payload.taskId))).to.equal('requested');
  });

  it('stops when it loses its lease, leaving the stream to the new owner', async () => {
    const r = await startJob('lease');
    await redis.set(keys.lease(r.key), 'another-worker', 'PX', 10_000);
    expect(await r.done).to.include({ outcome: 'handed-off', reason: 'lease lost' });
    expect(await redis.hget(keys.state(r.key), 'active')).to.equal('true');
    expect(await redis.get(keys.lease(r.key))).to.equal('another-worker');
  });

  it('stops when another task owns the state hash, leaving it alone', async () => {
    const r = await startJob('replaced');
    await redis.hset(keys.state(r.key), 'task_id', 'another-task');
    expect(await r.done).to.include({ outcome: 'handed-off', reason: 'replaced by another task' });
    expect(await redis.hget(keys.state(r.key), 'task_id')).to.equal('another-task');
  });

  it('keeps the first stop reason when several sources fire', async () => {
    const r = await startJob('many');
    r.control();
    r.shutdown();
    await redis.set(keys.stopRequested(r.key), 'true', 'EX', 60);
    expect((await r.done).reason).to.equal('requested');
    await expectCleared(r);
  });

  it('skips a task that is no longer the stream\'s', async () => {
    const key = uniqueKey('stale');
    const payload: StartPayload = { taskId: crypto.randomUUID(), streamKey: key, screenId: 'testcard', fps: 10, quality: 60, requestedAt: 1 };
    const ctx: StartContext = { config, redis, workerId: 'w', shuttingDown: new Promise(() => {}), onControl: () => () => {} };
    const job = new StreamJob(ctx, payload);
    expect(await job.claim()).to.include({ outcome: 'skipped', reason: 'stale task' });
  });
});
