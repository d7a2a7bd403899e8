// The reconciler against the real Redis, PostgreSQL and bee-queue (no workers: what it enqueues
// stays in the queue for the test to see). Each case builds one situation a crash or a Redis
// loss leaves behind and checks the one pass that repairs it.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { closeQueues, createQueues, jobSender, type Queues } from '../src/jobs/producer.js';
import { migrate, openDatabase, type Database } from '../src/db/index.js';
import { PgRequestedStreams } from '../src/streams/requested-pg.js';
import { Reconciler, queuedState } from '../src/streams/reconciler.js';
import { noteEnded } from '../src/streams/requested.js';
import { reserveStream } from '../src/streams/state.js';
import type { StartPayload } from '../src/streams/schema.js';
import { RUN_ID, forgetRequestedStreams, testConfig, uniqueKey } from './helpers/env.js';
import { deleteKeys } from './helpers/stack.js';

describe('Reconciler (requested streams → Redis and the queue)', function () {
  this.timeout(30_000);
  const config = testConfig();
  let redis: Redis;
  let db: Database;
  let queues: Queues;
  let requested: PgRequestedStreams;
  const made: string[] = [];

  const reconciler = (o: { resumeOnStart?: boolean } = {}) =>
    new Reconciler({ redis, requested, jobs: jobSender(queues), graceMs: 2000, everyMs: 1000, scope: config.QUEUE_PREFIX, ...o });
  const payload = (label: string): StartPayload => {
    const key = uniqueKey(label);
    made.push(key);
    return { taskId: crypto.randomUUID(), streamKey: key, screenId: 'testcard', fps: 5, quality: 60, requestedAt: Date.now() / 1000 - 60 };
  };
  const waiting = async () => (await jobSender(queues).startJobs()).waiting;

  before(async () => {
    redis = new Redis(config.REDIS_URL);
    db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: '' });
    await migrate(db.pool);
    requested = new PgRequestedStreams(db.pool, `test-${RUN_ID}`);
    queues = createQueues(config.REDIS_URL, { prefix: config.QUEUE_PREFIX, isWorker: false });
    await redis.del(keys.reconciler(config.QUEUE_PREFIX));
  });
  afterEach(async () => {
    for (const k of made.splice(0)) await redis.del(keys.state(k), keys.lease(k)).then(() => redis.srem(keys.active(), k));
    await forgetRequestedStreams();
    await redis.del(keys.reconciler(config.QUEUE_PREFIX));
  });
  after(async () => {
    await closeQueues(queues);
    await deleteKeys(redis, `${config.QUEUE_PREFIX}:*`);
    redis.disconnect();
    await db.close();
  });

  it('runs in one process at a time (the sf:reconciler lock)', async () => {
    const [a, b] = [reconciler(), reconciler()];
    expect(await a.tick()).to.be.an.instanceOf(Map);
    expect(await b.tick()).to.equal(null);
    expect(await a.tick()).to.be.an.instanceOf(Map);
    await a.stop();
    expect(await b.tick()).to.be.an.instanceOf(Map);
    await b.stop();
  });

  it('writes back a requested stream Redis lost, and enqueues it again under the same task id', async () => {
    const p = payload('lost');
    await requested.put({ streamKey: p.streamKey, taskId: p.taskId, payload: { ...p } });
    const done = await reconciler().pass();
    // Written back first; a worker still running it (Redis restarted under it) gets a moment
    // (queued_at) to take its lease again before the task is enqueued again.
    expect(done.get(p.streamKey)).to.equal('restored');
    const h = await redis.hgetall(keys.state(p.streamKey));
    expect(h).to.include({ active: 'true', task_id: p.taskId, screen_id: 'testcard', health: 'queued' });
    expect(await redis.sismember(keys.active(), p.streamKey)).to.equal(1);
    expect((await reconciler().pass(Date.now() + 3500)).get(p.streamKey)).to.equal('requeued');
    expect((await waiting()).has(p.taskId)).to.equal(true);
    // A second pass finds it queued: nothing more to do.
    expect((await reconciler().pass()).get(p.streamKey)).to.equal('queued');
    await jobSender(queues).cancel(p.taskId);
  });

  it('replaces a stale job of the same id (left in bee-queue\'s jobs hash, in no list)', async () => {
    const p = payload('stale-job');
    await requested.put({ streamKey: p.streamKey, taskId: p.taskId, payload: { ...p } });
    await reserveStream(redis, p.streamKey, queuedState(p));
    await redis.hset(`${config.QUEUE_PREFIX}:stream-start:jobs`, p.taskId, JSON.stringify({ data: p, options: {}, status: 'created' }));
    expect((await reconciler().pass()).get(p.streamKey)).to.equal('requeued');
    expect((await waiting()).has(p.taskId)).to.equal(true);
    await jobSender(queues).cancel(p.taskId);
  });

  it('forgets a stream whose start job ended because it was stopped (the note in Redis)', async () => {
    const p = payload('stopped');
    await requested.put({ streamKey: p.streamKey, taskId: p.taskId, payload: { ...p } });
    await noteEnded(redis, p.taskId, 'requested');
    expect((await reconciler().pass()).get(p.streamKey)).to.equal('forgotten');
    expect(await requested.get(p.streamKey)).to.equal(null);
    expect(await redis.exists(keys.state(p.streamKey))).to.equal(0);
  });

  it('leaves a stream with a live owner alone', async () => {
    const p = payload('owned');
    await requested.put({ streamKey: p.streamKey, taskId: p.taskId, payload: { ...p } });
    await reserveStream(redis, p.streamKey, queuedState(p));
    await redis.set(keys.lease(p.streamKey), 'some-worker', 'PX', 10_000);
    expect((await reconciler().pass()).get(p.streamKey)).to.equal('ok');
    expect((await waiting()).has(p.taskId)).to.equal(false);
  });

  it('between passes, watches the leases: a pass at once when an owner\'s lease is gone (a dead worker)', async () => {
    const p = payload('watched');
    await requested.put({ streamKey: p.streamKey, taskId: p.taskId, payload: { ...p } });
    await reserveStream(redis, p.streamKey, queuedState(p));
    await redis.set(keys.lease(p.streamKey), 'doomed-worker', 'PX', 10_000);
    const r = reconciler();
    const now = Date.now();
    expect((await r.tick(now))?.get(p.streamKey)).to.equal('ok');
    expect((await r.watch(now + 5000))?.get(p.streamKey) ?? 'ok').to.equal('ok');
    await redis.del(keys.lease(p.streamKey)); // the owner died: its lease expired
    expect((await r.watch(now + 5000))?.get(p.streamKey)).to.equal('requeued');
    expect((await waiting()).has(p.taskId)).to.equal(true);
    await jobSender(queues).cancel(p.taskId);
    await r.stop();
  });

  it('clears a stream active in Redis that is no longer requested and has no owner', async () => {
    const p = payload('zombie');
    await reserveStream(redis, p.streamKey, queuedState(p));
    expect((await reconciler().pass()).get(p.streamKey)).to.equal('dropped');
    expect(await redis.exists(keys.state(p.streamKey))).to.equal(0);
  });

  it('with RESUME_ON_START=false, its first pass forgets requested streams nobody runs', async () => {
    const p = payload('no-resume');
    await requested.put({ streamKey: p.streamKey, taskId: p.taskId, payload: { ...p } });
    await reserveStream(redis, p.streamKey, queuedState(p));
    expect((await reconciler({ resumeOnStart: false }).tick())?.get(p.streamKey)).to.equal('forgotten');
    expect(await requested.get(p.streamKey)).to.equal(null);
    expect(await redis.exists(keys.state(p.streamKey))).to.equal(0);
  });
});
