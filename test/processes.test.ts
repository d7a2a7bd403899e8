// What crosses process boundaries: a worker killed with SIGKILL, two web nodes on one stream.
import { expect } from 'chai';
import request from 'supertest';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { spawnWeb, spawnWorker, type Proc } from './helpers/proc.js';
import { openSse, isCompleteJpeg } from '../scripts/lib/sse-client.js';
import { REDIS_URL, forgetRequestedStreams, testEnv, uniqueKey, waitFor } from './helpers/env.js';

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
    await forgetRequestedStreams();
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

  it('keeps a stream whose only worker is killed requested (waiting, never failed) and resumes it on a new worker', async () => {
    const web = track(await spawnWeb(env));
    const w1 = track(await spawnWorker(env));
    const streamKey = uniqueKey('orphan');
    await request(web.url).post('/api/stream').send({ streamKey, screenId: 'testcard', fps: 5 }).expect(201);
    await waitFor(async () => (await redis.hget(keys.state(streamKey), 'health')) === 'live', 30_000);
    const feed = await openSse(`${web.url}/stream/feed?streamKey=${streamKey}`);
    await feed.next(1, 20_000);
    await w1.kill('SIGKILL');
    const state = await waitFor(async () => {
      const h = await redis.hgetall(keys.state(streamKey));
      return h.health === 'waiting' ? h : null;
    }, 20_000, 200, 'the stream to wait for a worker');
    expect(state.active).to.equal('true');
    expect(state.last_error).to.match(/waiting for a free worker$/);
    expect(await redis.sismember(keys.active(), streamKey)).to.equal(1);
    // A new worker takes it: same task, frames again on the feed that stayed open.
    const w2 = track(await spawnWorker(env));
    await waitFor(async () => {
      const h = await redis.hgetall(keys.state(streamKey));
      return h.health === 'live' && h.worker_id === w2.workerId && h.task_id === state.task_id;
    }, 30_000, 200, 'the new worker to resume it');
    const n = feed.messages.length;
    await feed.next(n + 3, 10_000);
    expect(feed.messages).to.not.include('stream_stopped');
    await request(web.url).delete(`/api/stream?streamKey=${streamKey}`).expect(200);
    await waitFor(async () => !(await redis.exists(keys.state(streamKey))), 20_000);
  });

  it('on SIGTERM with no other worker, leaves its stream requested (state kept, task queued) and leaves the worker set', async () => {
    const web = track(await spawnWeb(env));
    const w1 = track(await spawnWorker(env));
    const streamKey = uniqueKey('sigterm');
    await request(web.url).post('/api/stream').send({ streamKey, screenId: 'testcard', fps: 5 }).expect(201);
    await waitFor(async () => (await redis.hget(keys.state(streamKey), 'health')) === 'live', 30_000);
    const taskId = await redis.hget(keys.state(streamKey), 'task_id');
    expect(await w1.kill('SIGTERM')).to.equal(0);
    expect(await redis.hget(keys.state(streamKey), 'active')).to.equal('true');
    expect(await redis.exists(keys.lease(streamKey))).to.equal(0);
    expect(await redis.lrange(`${env.QUEUE_PREFIX}:stream-start:waiting`, 0, -1)).to.include(taskId);
    expect(await redis.zscore(keys.workers(), w1.workerId)).to.equal(null);
    expect(w1.output()).to.match(/shutdown complete/);
    await request(web.url).delete(`/api/stream?streamKey=${streamKey}`).expect(200);
    await waitFor(async () => !(await redis.exists(keys.state(streamKey))), 5000);
    expect(await redis.lrange(`${env.QUEUE_PREFIX}:stream-start:waiting`, 0, -1)).to.not.include(taskId);
  });
});
