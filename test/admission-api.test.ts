// Issue 13, item 2: POST /api/stream says at once whether the stream will run. Real processes
// (src/web.ts, src/worker.ts), real Redis and PostgreSQL; the workers' heartbeats are what the
// web role reads. A fixed cost per stream (ADMISSION_STREAM_CPU, 60 % of the cores) fills a
// worker with one stream whatever else runs on this shared machine. Previews only (RTMP_URL=off):
// what is checked is the answer, not the broadcast.
import os from 'node:os';
import { expect } from 'chai';
import request from 'supertest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { z } from 'zod';
import { keys } from '../src/keys.js';
import { NO_CAPACITY } from '../src/streams/worker-beats.js';
import { spawnWeb, spawnWorker, type Proc } from './helpers/proc.js';
import { DATABASE_URL, REDIS_URL, forgetRequestedStreams, testEnv, uniqueKey, waitFor } from './helpers/env.js';

describe('POST /api/stream answers by the workers\' advertised room (issue 13)', function () {
  this.timeout(120_000);
  let env: Record<string, string>;
  let redis: Redis;
  let db: pg.Client;
  const procs: Proc[] = [];
  const track = <P extends Proc>(p: P): P => (procs.push(p), p);

  /** The documented schema of POST /api/stream for a status, from the served OpenAPI document. */
  async function documented(url: string, status: number) {
    const doc = (await request(url).get('/api/openapi.json').expect(200)).body;
    const schema = doc.paths['/api/stream'].post.responses[String(status)].content['application/json'].schema;
    return z.fromJSONSchema(schema);
  }

  before(async () => {
    env = testEnv({
      RTMP_URL: 'off',
      RECONCILE_SECONDS: '2',
      WORKER_CONCURRENCY: '4',
      ADMISSION: 'measured',
      ADMISSION_STREAM_CPU: String(Math.round(os.availableParallelism() * 0.6 * 100) / 100),
    });
    env.QUEUE_PREFIX = `${env.QUEUE_PREFIX}aapi`;
    redis = new Redis(REDIS_URL);
    db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
    await forgetRequestedStreams();
  });
  after(async () => {
    redis.disconnect();
    await db.end();
  });

  it('201 with room; with none, 202 waiting ("no capacity"), or 503 + Retry-After and nothing changed when the caller will not wait', async () => {
    const web = track(await spawnWeb(env));
    const w1 = track(await spawnWorker(env));
    const capacity = async () => {
      const h = (await request(web.url).get('/api/health').expect(200)).body;
      return h.workers.capacity.find((c: { id: string }) => c.id === w1.workerId) as { headroom: number; streams: number } | undefined;
    };
    await waitFor(async () => ((await capacity())?.headroom ?? 0) >= 1, 15_000, 200, 'worker 1 advertising room');
    const [a, b] = [uniqueKey('aapi-a'), uniqueKey('aapi-b')];

    // Room: 201, exactly the body of before (parity).
    const created = await request(web.url).post('/api/stream').send({ streamKey: a, screenId: 'testcard', fps: 5 }).expect(201);
    expect(Object.keys(created.body).sort()).to.deep.equal(['screenId', 'streamKey', 'success', 'taskId']);
    expect((await documented(web.url, 201)).safeParse(created.body).success).to.equal(true);
    await waitFor(async () => {
      const c = await capacity();
      return c && c.streams === 1 && c.headroom === 0;
    }, 30_000, 200, 'worker 1 full (one stream, headroom 0)');

    // No room, and the caller will not wait: 503 with Retry-After; nothing reserved, recorded or enqueued.
    const jobsKey = `${env.QUEUE_PREFIX}:stream-start:jobs`;
    const jobsBefore = await redis.hlen(jobsKey);
    const refused = await request(web.url).post('/api/stream').send({ streamKey: b, screenId: 'testcard', fps: 5, wait: false }).expect(503);
    expect(Number(refused.headers['retry-after'])).to.equal(2);
    expect(refused.body.error).to.equal('no_capacity');
    expect(refused.body.message).to.match(/no worker has room/);
    expect(refused.body.details).to.deep.equal({ health: 'waiting', reason: NO_CAPACITY });
    expect((await documented(web.url, 503)).safeParse(refused.body).success).to.equal(true);
    expect(await redis.exists(keys.state(b)), 'no state hash').to.equal(0);
    expect(await redis.sismember(keys.active(), b), 'not active').to.equal(0);
    expect(await redis.hlen(jobsKey), 'no job').to.equal(jobsBefore);
    expect((await db.query('SELECT 1 FROM requested_streams WHERE stream_key = $1', [b])).rowCount, 'not requested').to.equal(0);
    await request(web.url).get(`/api/stream/${b}`).expect(404);
    // An active stream stays a conflict, whatever the room.
    await request(web.url).post('/api/stream').send({ streamKey: a, screenId: 'testcard', wait: false }).expect(409);
    await request(web.url).post('/api/stream').send({ streamKey: b, wait: 'no' }).expect(400);

    // No room, the caller waits (the default): 202 with the waiting state, and the state says so at once.
    const waiting = await request(web.url).post('/api/stream').send({ streamKey: b, screenId: 'testcard', fps: 5 }).expect(202);
    expect(waiting.body).to.include({ success: true, streamKey: b, screenId: 'testcard', health: 'waiting', reason: NO_CAPACITY });
    expect(waiting.body.taskId).to.be.a('string');
    expect((await documented(web.url, 202)).safeParse(waiting.body).success).to.equal(true);
    const detail = (await request(web.url).get(`/api/stream/${b}`).expect(200)).body;
    expect(detail).to.include({ health: 'waiting', lastError: NO_CAPACITY, taskId: waiting.body.taskId });
    expect((await db.query('SELECT task_id FROM requested_streams WHERE stream_key = $1', [b])).rows[0]?.task_id, 'requested').to.equal(waiting.body.taskId);

    // A second worker joins: the waiting stream starts there; and the API answers 201 again while it has room.
    const w2 = track(await spawnWorker(env));
    await waitFor(async () => (await redis.hget(keys.state(b), 'health')) === 'live', 45_000, 200, 'B live on worker 2');
    expect(await redis.hget(keys.state(b), 'worker_id')).to.equal(w2.workerId);

    await request(web.url).delete(`/api/stream?streamKey=${a}`).expect(200);
    await request(web.url).delete(`/api/stream?streamKey=${b}`).expect(200);
  });

  it('no live worker at all: 202, or 503 when asked not to wait', async () => {
    const web = track(await spawnWeb(env));
    // Workers of an earlier test are gone (SIGKILLed): wait until their heartbeats have expired.
    await waitFor(async () => (await request(web.url).get('/api/health').expect(200)).body.workers.capacity.length === 0, 20_000, 250, 'no live worker');
    const k = uniqueKey('aapi-none');
    const refused = await request(web.url).post('/api/stream').send({ streamKey: k, screenId: 'testcard', wait: false }).expect(503);
    expect(refused.headers['retry-after']).to.equal('2');
    expect(await redis.exists(keys.state(k))).to.equal(0);
    const waiting = await request(web.url).post('/api/stream').send({ streamKey: k, screenId: 'testcard' }).expect(202);
    expect(waiting.body.reason).to.equal(NO_CAPACITY);
    await request(web.url).delete(`/api/stream?streamKey=${k}`).expect(200);
  });
});
