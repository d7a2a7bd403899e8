// streams/holders.ts against a real Redis: a lease holder whose named connection closed is dead
// after GONE_AFTER_MS and loses its leases; a holder never seen connected (an older worker, no
// name) keeps the TTL path; a connected one is left alone.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { GONE_AFTER_MS, HolderWatch, connectedWorkers, namedConnection } from '../src/streams/holders.js';
import { REDIS_URL, sleep, uniqueKey, waitFor } from './helpers/env.js';

describe('lease holders: dead when their Redis connection closed (issue 9)', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis(REDIS_URL);
  });
  after(() => redis.disconnect());

  it('parses the worker ids out of CLIENT LIST', () => {
    const list = 'id=3 addr=127.0.0.1:1 name=stream-fighter:worker:vm-1-abc age=1\nid=4 addr=127.0.0.1:2 name=stream-fighter:web age=1\nid=5 addr=x name= age=2\n';
    expect([...connectedWorkers(list)]).to.deep.equal(['vm-1-abc']);
  });

  it('drops the leases of a holder that was connected and is gone, only after GONE_AFTER_MS', async () => {
    const [alive, dead, old] = [uniqueKey('alive'), uniqueKey('dead'), uniqueKey('old')];
    const conns = [new Redis(REDIS_URL, { connectionName: namedConnection(alive) }), new Redis(REDIS_URL, { connectionName: namedConnection(dead) })];
    await Promise.all(conns.map((c) => c.ping()));
    const leases = new Map([[`sf:test:lease:${alive}`, alive], [`sf:test:lease:${dead}`, dead], [`sf:test:lease:${old}`, old]]);
    for (const [k, v] of leases) await redis.set(k, v, 'PX', 60_000);
    const w = new HolderWatch(redis);
    try {
      expect(await w.reap(leases)).to.deep.equal([]); // both seen connected
      conns[1].disconnect();
      await waitFor(async () => !connectedWorkers(String(await redis.call('CLIENT', 'LIST'))).has(dead), 5000, 50, 'connection gone');
      const t0 = Date.now();
      expect(await w.reap(leases, t0)).to.deep.equal([]); // missing, not yet for long
      await sleep(50);
      expect(await w.reap(leases, t0 + GONE_AFTER_MS)).to.deep.equal([`sf:test:lease:${dead}`]);
      expect(await redis.exists(`sf:test:lease:${dead}`)).to.equal(0);
      // The live holder and the never-seen one keep theirs.
      expect(await redis.get(`sf:test:lease:${alive}`)).to.equal(alive);
      expect(await redis.get(`sf:test:lease:${old}`)).to.equal(old);
      expect(await w.reap(leases, t0 + 10 * GONE_AFTER_MS)).to.deep.equal([]);
    } finally {
      conns.forEach((c) => c.disconnect());
      await redis.del(...leases.keys());
    }
  });

  it('a lease taken over meanwhile by another holder is not dropped', async () => {
    const [dead, next] = [uniqueKey('dead'), uniqueKey('next')];
    const c = new Redis(REDIS_URL, { connectionName: namedConnection(dead) });
    await c.ping();
    const key = `sf:test:lease:${dead}`;
    await redis.set(key, dead, 'PX', 60_000);
    const w = new HolderWatch(redis);
    await w.reap(new Map([[key, dead]]));
    c.disconnect();
    await waitFor(async () => !connectedWorkers(String(await redis.call('CLIENT', 'LIST'))).has(dead), 5000, 50, 'connection gone');
    await w.reap(new Map([[key, dead]]), 1);
    await redis.set(key, next, 'PX', 60_000); // another worker took it in between
    await w.reap(new Map([[key, dead]]), 1 + GONE_AFTER_MS);
    expect(await redis.get(key)).to.equal(next);
    await redis.del(key);
  });
});
