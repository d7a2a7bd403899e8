// A private redis-server that the test kills and restarts (empty, as Redis without persistence
// comes back): the service answers 503 meanwhile, never crashes, and the running stream survives.
import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import request from 'supertest';
import { freePort, redisAnswers } from '../src/embedded/redis.js';
import { keys } from '../src/keys.js';
import { startStack, type Stack } from './helpers/stack.js';
import { openSse } from '../scripts/lib/sse-client.js';
import { sleep, waitFor } from './helpers/env.js';

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor(() => redisAnswers(`redis://127.0.0.1:${port}`, 300), 20_000, 100, 'redis-server to answer');
  return child;
}

describe('Redis restarts under a running service', function () {
  this.timeout(150_000);
  let port: number;
  let redisProc: ChildProcess;
  let s: Stack;

  before(async () => {
    port = await freePort();
    redisProc = await startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    s = await startStack({ env: { REDIS_URL: url } });
  });
  after(async () => {
    await s?.close();
    redisProc?.kill('SIGKILL');
  });

  it('answers 503 while Redis is down, keeps the stream, and recovers when Redis is back', async () => {
    await request(s.url).post('/stream/start').send({ fps: 10 }).expect(200);
    await waitFor(async () => (await s.redis.hget('streaming:state', 'health')) === 'live', 30_000, 100, 'the stream to be live');
    const taskId = await s.redis.hget('streaming:state', 'task_id');
    const feed = await openSse(`${s.url}/stream/feed`);
    await feed.next(2, 20_000);

    redisProc.kill('SIGKILL');
    let health = await request(s.url).get('/api/health');
    await waitFor(async () => (health = await request(s.url).get('/api/health')).status === 503, 20_000, 100, 'health 503');
    expect(health.status).to.equal(503);
    expect(health.body.status).to.equal('error');
    expect(health.body.redis.ok).to.equal(false);
    const status = await request(s.url).get('/stream/status');
    expect(status.status).to.equal(503);
    expect(status.body).to.include({ error: 'unavailable' });
    expect(JSON.stringify(status.body)).not.to.match(/\.ts:\d+|ECONNREFUSED/);
    const start = await request(s.url).post('/stream/start').send({});
    expect(start.status).to.equal(503);

    redisProc = await startRedis(port);
    // The worker notices the empty Redis and writes its stream back.
    const state = await waitFor(async () => {
      const h = await s.redis.hgetall('streaming:state');
      return h.active === 'true' ? h : null;
    }, 30_000, 100, 'the state to be restored');
    expect(state.task_id).to.equal(taskId);
    expect(await s.redis.sismember(keys.active(), 'default')).to.equal(1);
    await waitFor(async () => (await request(s.url).get('/api/health')).status === 200, 30_000, 200, 'health 200');

    // Frames reach the feed that was open all along.
    const before = feed.messages.length;
    await feed.next(before + 5, 20_000);

    // And the stream can be stopped as usual.
    await request(s.url).post('/stream/stop').expect(200);
    await Promise.race([feed.closed, sleep(20_000)]);
    expect(feed.messages.at(-1)).to.equal('stream_stopped');
    expect(await s.redis.exists('streaming:state')).to.equal(0);
  });
});
