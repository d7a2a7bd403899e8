// The shared helpers of src/redis/ (logOnce, quit) and the one isDependencyDown (src/errors.ts).
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { logOnce, quit, createRedis } from '../src/redis/index.js';
import { isDependencyDown } from '../src/errors.js';
import { REDIS_URL, waitFor } from './helpers/env.js';

describe('logOnce', () => {
  function recorder(opts: { distinct?: boolean; repeatMs?: number } = {}) {
    const lines: string[] = [];
    let t = 0;
    const o = logOnce({ warn: (m) => lines.push(`warn ${m}`), recovered: () => lines.push('recovered'), ...opts }, () => t);
    return { o, lines, advance: (ms: number) => (t += ms) };
  }

  it('logs the first failure of an outage and its end, nothing between', () => {
    const { o, lines } = recorder();
    o.ok();
    o.fail('a');
    o.fail('a');
    o.fail('b');
    expect(o.down).to.equal(true);
    o.ok();
    o.ok();
    o.fail('c');
    expect(lines).to.deep.equal(['warn a', 'recovered', 'warn c']);
  });

  it('distinct: a different message within an outage is logged too', () => {
    const { o, lines } = recorder({ distinct: true });
    o.fail('a');
    o.fail('a');
    o.fail('b');
    o.fail('b');
    o.ok();
    o.fail('b');
    expect(lines).to.deep.equal(['warn a', 'warn b', 'recovered', 'warn b']);
  });

  it('repeatMs: within an outage, again once that long has passed', () => {
    const { o, lines, advance } = recorder({ repeatMs: 30_000 });
    o.fail('a');
    advance(29_999);
    o.fail('a');
    advance(1);
    o.fail('a');
    expect(lines).to.deep.equal(['warn a', 'warn a']);
  });
});

describe('isDependencyDown', () => {
  it('recognises Redis and Postgres being away, and nothing else', () => {
    for (const msg of [
      'connect ECONNREFUSED 127.0.0.1:6379',
      'Connection is closed.',
      "Reached the max retries per request limit (which is 2). Refer to \"maxRetriesPerRequest\" option for details.",
      'MaxRetriesPerRequestError',
      'connect ETIMEDOUT',
      'getaddrinfo ENOTFOUND redis',
      'Connection terminated unexpectedly',
      'cannot reach Redis within 3000 ms',
      "Stream isn't writeable and enableOfflineQueue options is false",
      'no answer within 1500 ms',
    ]) {
      expect(isDependencyDown(new Error(msg)), msg).to.equal(true);
    }
    for (const msg of ['NOSCRIPT No matching script', 'WRONGTYPE Operation', 'boom', 'invalid input syntax']) {
      expect(isDependencyDown(new Error(msg)), msg).to.equal(false);
    }
    expect(isDependencyDown('Connection is closed.')).to.equal(true);
    expect(isDependencyDown(undefined)).to.equal(false);
  });
});

describe('quit', () => {
  it('closes a connected client, and is safe on a closed one', async () => {
    const c = createRedis(REDIS_URL, 'test-quit');
    await c.ping();
    await quit(c);
    await waitFor(() => c.status === 'end', 5000, 10, 'the connection to end');
    await quit(c);
    expect(c.status).to.equal('end');
  });

  it('drops a client that cannot reach Redis instead of waiting for it', async () => {
    const c = new Redis('redis://127.0.0.1:1', { retryStrategy: () => 100, maxRetriesPerRequest: 1 });
    c.on('error', () => {});
    const t = Date.now();
    await quit(c);
    expect(Date.now() - t).to.be.lessThan(5000);
    expect(['end', 'close']).to.include(c.status);
  });
});
