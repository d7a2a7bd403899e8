// src/redis/subscriber.ts against the real Redis: one SUBSCRIBE per channel whatever the number of
// handlers, dispatch by channel, one handler leaving keeps the others, and the subscriptions come
// back after a Redis restart (a private redis-server this test kills and starts again).
import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { freePort, redisAnswers } from '../src/embedded/redis.js';
import { createRedis, openRedis, Subscriber } from '../src/redis/index.js';
import { REDIS_URL, sleep, uniqueKey, waitFor } from './helpers/env.js';

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor(() => redisAnswers(`redis://127.0.0.1:${port}`, 300), 10_000, 100, 'redis-server to answer');
  return child;
}

const numsub = async (redis: Redis, ch: string) => Number(((await redis.pubsub('NUMSUB', ch)) as [string, number])[1]);

describe('redis/subscriber (channel router, real Redis)', function () {
  this.timeout(30_000);
  let redis: Redis;
  let connection: Redis;
  let sub: Subscriber;

  beforeEach(() => {
    redis = new Redis(REDIS_URL);
    connection = createRedis(REDIS_URL, 'test-subscriber', { subscriber: true });
    sub = new Subscriber(connection);
  });
  afterEach(() => {
    sub.close();
    connection.disconnect();
    redis.disconnect();
  });

  it('subscribes a channel once for all its handlers, dispatches by channel, and unsubscribes after the last', async () => {
    const [a, b] = [uniqueKey('sub-a'), uniqueKey('sub-b')];
    const got: string[] = [];
    const offA1 = await sub.subscribe(a, (m, ch) => got.push(`a1:${ch === a}:${m.toString()}`));
    const offA2 = await sub.subscribe(a, (m) => got.push(`a2:${m.toString()}`));
    const offB = await sub.subscribe(b, (m) => got.push(`b:${m.toString()}`));
    expect(await numsub(redis, a)).to.equal(1);
    expect(sub.counts().get(a)).to.equal(2);

    expect(await redis.publish(a, 'x')).to.equal(1); // one connection, one delivery...
    await redis.publish(b, 'y');
    await waitFor(() => got.length === 3, 5000, 10, 'three dispatches');
    expect(got.sort()).to.deep.equal(['a1:true:x', 'a2:x', 'b:y']); // ...to both handlers of a

    await offA1();
    await offA1(); // safe twice: does not take a2 away
    expect(await numsub(redis, a)).to.equal(1);
    got.length = 0;
    await redis.publish(a, 'z');
    await waitFor(() => got.length === 1, 5000, 10, 'the remaining handler');
    expect(got).to.deep.equal(['a2:z']);

    await offA2();
    expect(await numsub(redis, a)).to.equal(0);
    expect(sub.counts().has(a)).to.equal(false);
    await offB();
    expect(await numsub(redis, b)).to.equal(0);
  });

  it('the same function twice counts twice; a throwing handler does not stop the others; messages stay Buffers', async () => {
    const ch = uniqueKey('sub-c');
    const got: Buffer[] = [];
    const h = (m: Buffer) => got.push(m);
    const off1 = await sub.subscribe(ch, h);
    const off2 = await sub.subscribe(ch, h);
    await sub.subscribe(ch, () => {
      throw new Error('boom');
    });
    await redis.publish(ch, Buffer.from([0, 255, 1]));
    await waitFor(() => got.length === 2, 5000, 10, 'both registrations');
    expect(Buffer.isBuffer(got[0])).to.equal(true);
    expect([...got[0]]).to.deep.equal([0, 255, 1]);
    await off1();
    await off2();
    expect(await numsub(redis, ch)).to.equal(1); // the throwing one still holds it
  });

  it('leaving and coming back at once (UNSUBSCRIBE then SUBSCRIBE in flight) ends subscribed', async () => {
    const ch = uniqueKey('sub-d');
    const got: string[] = [];
    const off = await sub.subscribe(ch, () => got.push('old'));
    const leaving = off();
    const back = sub.subscribe(ch, (m) => got.push(m.toString()));
    await Promise.all([leaving, back]);
    expect(await numsub(redis, ch)).to.equal(1);
    await redis.publish(ch, 'new');
    await waitFor(() => got.length === 1, 5000, 10, 'the new handler');
    expect(got).to.deep.equal(['new']);
  });

  describe('across a Redis restart (private redis-server)', function () {
    let port: number;
    let proc: ChildProcess;

    before(async () => {
      port = await freePort();
      proc = await startRedis(port);
    });
    after(() => {
      proc?.kill('SIGKILL');
    });

    it('ioredis re-subscribes every channel the router holds; onReady fires; openRedis fails fast meanwhile', async () => {
      const url = `redis://127.0.0.1:${port}`;
      const conns = await openRedis(url, 'test-restart');
      conns.redis.on('error', () => {});
      const probe = new Redis(url, { retryStrategy: () => 200 });
      probe.on('error', () => {});
      try {
        const got: string[] = [];
        let readies = 0;
        const offReady = conns.sub.onReady(() => (readies += 1));
        await conns.sub.subscribe('sf:test:one', (m) => got.push(`one:${m}`));
        await conns.sub.subscribe('sf:test:two', (m) => got.push(`two:${m}`));

        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
        // The command client answers at once while Redis is away (the HTTP 503 path).
        await waitFor(() => conns.redis.status !== 'ready', 5000, 20, 'the client to notice');
        const t0 = Date.now();
        const err = await conns.redis.get('x').then(() => null, (e: Error) => e);
        expect(err?.message).to.match(/isn't writeable|Connection is closed/);
        expect(Date.now() - t0).to.be.below(100);

        proc = await startRedis(port);
        await waitFor(() => readies >= 1, 15_000, 50, 'the subscriber to be ready again');
        await waitFor(async () => (await probe.pubsub('NUMSUB', 'sf:test:one', 'sf:test:two').catch(() => [])).join() === 'sf:test:one,1,sf:test:two,1', 15_000, 50, 'the channels re-subscribed');
        await probe.publish('sf:test:one', 'a');
        await probe.publish('sf:test:two', 'b');
        await waitFor(() => got.length === 2, 5000, 10, 'messages after the restart');
        expect(got.sort()).to.deep.equal(['one:a', 'two:b']);
        offReady();
        await sleep(10);
      } finally {
        probe.disconnect();
        await conns.close();
      }
    });
  });
});
