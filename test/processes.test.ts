// What crosses process boundaries: a worker killed with SIGKILL, two web nodes on one stream.
import { expect } from 'chai';
import request from 'supertest';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { spawnWeb, spawnWorker, type Proc } from './helpers/proc.js';
import { openSse, isCompleteJpeg } from '../scripts/lib/sse-client.js';
import { REDIS_URL, testEnv, uniqueKey, waitFor } from './helpers/env.js';

describe('processes: worker loss and several web nodes', function () {
  this.timeout(90_000);
  const env = testEnv({ HEARTBEAT_TTL_SECONDS: '6' });
  const redis = new Redis(REDIS_URL);
  const procs: Proc[] = [];
  const track = <P extends Proc>(p: P): P => {
    procs.push(p);
    return p;
  };

  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
  });
  after(() => redis.disconnect());

  it('serves one stream from two web processes on different ports', async () => {
    const [a, b] = await Promise.all([spawnWeb(env), spawnWeb(env)]).then((ps) => ps.map(track));
    track(await spawnWorker(env));
    const streamKey = uniqueKey('two-webs');
    await request(a.url).post('/api/stream').send({ streamKey, screenId: 'testcard', fps: 10 }).expect(201);
    const [fa, fb] = await Promise.all([openSse(`${a.url}/stream/feed?streamKey=${streamKey}`), openSse(`${b.url}/stream/feed?streamKey=${streamKey}`)]);
    await Promise.all([fa.next(5, 20_000), fb.next(5, 20_000)]);
    expect(isCompleteJpeg(Buffer.from(fa.messages[4], 'base64'))).to.equal(true);
    expect(isCompleteJpeg(Buffer.from(fb.messages[4], 'base64'))).to.equal(true);
    // Status is the same wherever it is asked.
    const sa = (await request(a.url).get(`/stream/status?streamKey=${streamKey}`)).body;
    const sb = (await request(b.url).get(`/stream/status?streamKey=${streamKey}`)).body;
    expect(sa.task_id).to.equal(sb.task_id);
    // Stopped through B, both feeds close.
    await request(b.url).delete(`/api/stream?streamKey=${streamKey}`).expect(200);
    await Promise.all([fa.closed, fb.closed]);
    expect(fa.messages.at(-1)).to.equal('stream_stopped');
    expect(fb.messages.at(-1)).to.equal('stream_stopped');
  });

  it('hands a stream over to a second worker when its worker is killed with SIGKILL', async () => {
    const web = track(await spawnWeb(env));
    const w1 = track(await spawnWorker(env));
    const streamKey = uniqueKey('takeover');
    await request(web.url).post('/api/stream').send({ streamKey, screenId: 'testcard', fps: 5 }).expect(201);
    await waitFor(async () => (await redis.hget(keys.state(streamKey), 'health')) === 'live', 30_000);
    expect(await redis.hget(keys.state(streamKey), 'worker_id')).to.equal(w1.workerId);
    const w2 = track(await spawnWorker(env));

    const killedAt = Date.now();
    await w1.kill('SIGKILL');
    const owner = await waitFor(
      async () => {
        const h = await redis.hgetall(keys.state(streamKey));
        return h.worker_id === w2.workerId && h.health === 'live' ? h : null;
      },
      20_000,
      200,
      'the second worker to take the stream over',
    );
    const tookMs = Date.now() - killedAt;
    expect(tookMs).to.be.lessThan(16_000);
    expect(owner.active).to.equal('true');
    expect(Number(owner.restarts)).to.be.at.least(1);
    // Frames flow again from the new owner.
    const feed = await openSse(`${web.url}/stream/feed?streamKey=${streamKey}`);
    await feed.next(3, 20_000);
    feed.close();
    await request(web.url).delete(`/api/stream?streamKey=${streamKey}`).expect(200);
    await waitFor(async () => !(await redis.exists(keys.state(streamKey))), 20_000);
  });

  it('marks the stream failed (not active) within ~15 s when its only worker is killed', async () => {
    const web = track(await spawnWeb(env));
    const w1 = track(await spawnWorker(env));
    const streamKey = uniqueKey('orphan');
    await request(web.url).post('/api/stream').send({ streamKey, screenId: 'testcard', fps: 5 }).expect(201);
    await waitFor(async () => (await redis.hget(keys.state(streamKey), 'health')) === 'live', 30_000);
    const feed = await openSse(`${web.url}/stream/feed?streamKey=${streamKey}`);
    await feed.next(1, 20_000);
    const killedAt = Date.now();
    await w1.kill('SIGKILL');
    await waitFor(async () => (await redis.hget(keys.state(streamKey), 'active')) === 'false', 20_000, 200, 'the stream to be reaped');
    expect(Date.now() - killedAt).to.be.lessThan(16_000);
    const state = await redis.hgetall(keys.state(streamKey));
    expect(state.health).to.equal('failed');
    expect(state.last_error).to.match(/stopped heartbeating/);
    expect(await redis.sismember(keys.active(), streamKey)).to.equal(0);
    await feed.closed;
    expect(feed.messages.at(-1)).to.equal('stream_stopped');
    // A new start on the same key is allowed at once.
    track(await spawnWorker(env));
    await request(web.url).post('/api/stream').send({ streamKey, screenId: 'testcard' }).expect(201);
    await waitFor(async () => (await redis.hget(keys.state(streamKey), 'health')) === 'live', 30_000);
    await request(web.url).delete(`/api/stream?streamKey=${streamKey}`).expect(200);
    await waitFor(async () => !(await redis.exists(keys.state(streamKey))), 20_000);
  });

  it('stops its streams and leaves no keys behind on SIGTERM', async () => {
    const web = track(await spawnWeb(env));
    const w1 = track(await spawnWorker(env));
    const streamKey = uniqueKey('sigterm');
    await request(web.url).post('/api/stream').send({ streamKey, screenId: 'testcard', fps: 5 }).expect(201);
    await waitFor(async () => (await redis.hget(keys.state(streamKey), 'health')) === 'live', 30_000);
    expect(await w1.kill('SIGTERM')).to.equal(0);
    expect(await redis.exists(keys.state(streamKey))).to.equal(0);
    expect(await redis.zscore(keys.workers(), w1.workerId)).to.equal(null);
    expect(w1.output()).to.match(/shutdown complete/);
  });
});
