// Every Lua command of src/redis/scripts.ts against the real Redis: KEYS, ARGV and replies of each
// script (used by streams/lease.ts, streams/state.ts, polls/store.ts, realtime/catchup.ts and
// realtime/cluster.ts), and they survive a Redis restart.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { freePort, redisAnswers } from '../src/embedded/redis.js';
import { defineScripts, scriptSources, SCRIPT_FILES, type RedisScripts } from '../src/redis/index.js';
import { REDIS_URL, uniqueKey, waitFor } from './helpers/env.js';

describe('redis scripts (defineCommand)', function () {
  this.timeout(20_000);
  let redis: Redis;
  let sub: Redis;
  let s: RedisScripts;
  let p: string;
  const k = (name: string) => `${p}:${name}`;

  before(async () => {
    redis = new Redis(REDIS_URL);
    sub = new Redis(REDIS_URL);
    s = defineScripts(redis);
  });
  beforeEach(() => {
    p = uniqueKey('lua');
  });
  afterEach(async () => {
    const left = await redis.keys(`${p}*`);
    if (left.length) await redis.del(...left);
  });
  after(async () => {
    redis.disconnect();
    sub.disconnect();
  });

  /** Messages published on `channel` while `fn` runs. */
  async function published(channel: string, fn: () => Promise<unknown>): Promise<unknown[]> {
    const got: unknown[] = [];
    const on = (ch: string, msg: string) => ch === channel && got.push(JSON.parse(msg));
    sub.on('message', on);
    await sub.subscribe(channel);
    try {
      await fn();
      // A PING on the subscriber returns after the messages published before it were delivered.
      await sub.ping();
    } finally {
      await sub.unsubscribe(channel);
      sub.off('message', on);
    }
    return got;
  }

  it('has a readable .lua file for every command, and registers once per client', () => {
    const src = scriptSources();
    for (const name of Object.keys(SCRIPT_FILES)) expect(src[name as keyof typeof src]).to.match(/redis\.call/);
    expect(src.clusterEnd).to.include('local function endStream');
    expect(defineScripts(redis)).to.equal(s);
  });

  it('leaseHold / leaseRelease: take, renew, refuse another worker, release only by the owner', async () => {
    expect(await s.leaseHold([k('lease')], ['w1', 5000])).to.equal(1);
    expect(await s.leaseHold([k('lease')], ['w1', 8000])).to.equal(1);
    expect(await redis.pttl(k('lease'))).to.be.greaterThan(5000);
    expect(await s.leaseHold([k('lease')], ['w2', 5000])).to.equal(0);
    expect(await s.leaseRelease([k('lease')], ['w2'])).to.equal(0);
    expect(await redis.get(k('lease'))).to.equal('w1');
    expect(await s.leaseRelease([k('lease')], ['w1'])).to.equal(1);
    expect(await redis.exists(k('lease'))).to.equal(0);
  });

  it('stateReserve: reserves an inactive stream, answers the hash of an active one', async () => {
    await redis.set(k('stop'), 'true');
    const keys: [string, string, string] = [k('state'), k('stop'), k('active')];
    expect(await s.stateReserve(keys, ['sk', 'active', 'true', 'task_id', 't1'])).to.equal(null);
    expect(await redis.hgetall(k('state'))).to.deep.equal({ active: 'true', task_id: 't1' });
    expect(await redis.exists(k('stop'))).to.equal(0);
    expect(await redis.sismember(k('active'), 'sk')).to.equal(1);
    const again = await s.stateReserve(keys, ['sk', 'active', 'true', 'task_id', 't2']);
    expect(again).to.have.members(['active', 'true', 'task_id', 't1']);
  });

  it('stateUpdateIfOwner: writes only for the owning task', async () => {
    await redis.hset(k('state'), 'task_id', 't1');
    expect(await s.stateUpdateIfOwner([k('state')], ['t2', 'frames', '5'])).to.equal(0);
    expect(await s.stateUpdateIfOwner([k('state')], ['t1', 'frames', '7', 'health', 'live'])).to.equal(1);
    expect(await redis.hgetall(k('state'))).to.deep.equal({ task_id: 't1', frames: '7', health: 'live' });
  });

  it('stateClear: deletes the owner’s keys, keeps a failed hash for an hour, refuses another task', async () => {
    const keys: [string, string, string, string, string] = [k('state'), k('stop'), k('active'), k('lease'), k('last')];
    await redis.hset(k('state'), 'task_id', 't1', 'active', 'true');
    await redis.set(k('stop'), 'true');
    await redis.set(k('lease'), 'w1');
    await redis.set(k('last'), 'frame');
    await redis.sadd(k('active'), 'sk');
    expect(await s.stateClear(keys, ['t2', 'sk', '0', '100'])).to.equal(0);
    expect(await redis.exists(k('state'), k('last'))).to.equal(2);
    expect(await s.stateClear(keys, ['t1', 'sk', '1', '123.5'])).to.equal(1);
    expect(await redis.hgetall(k('state'))).to.include({ active: 'false', health: 'failed', stopped_at: '123.5' });
    expect(await redis.ttl(k('state'))).to.be.within(3590, 3600);
    expect(await redis.exists(k('stop'), k('lease'), k('last'))).to.equal(0);
    expect(await redis.sismember(k('active'), 'sk')).to.equal(0);
    expect(await s.stateClear(keys, ['t1', 'sk', '0', '124'])).to.equal(1);
    expect(await redis.exists(k('state'))).to.equal(0);
    // No hash at all: nobody owns it, clearing succeeds.
    expect(await s.stateClear(keys, ['t9', 'sk', '0', '1'])).to.equal(1);
  });

  it('framePublish: keeps the newest frame with its TTL and publishes the same bytes', async () => {
    const sub = redis.duplicate();
    const got: Buffer[] = [];
    await sub.subscribe(k('chan'));
    sub.on('messageBuffer', (_c: Buffer, m: Buffer) => got.push(m));
    const frame = Buffer.from([0, 1, 2, 255]);
    expect(await s.framePublish([k('newest')], [frame, 3000, k('chan')])).to.equal(1);
    expect((await redis.getBuffer(k('newest')))!.equals(frame)).to.equal(true);
    expect(await redis.pttl(k('newest'))).to.be.within(2000, 3000);
    const deadline = Date.now() + 10_000;
    while (!got.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(got[0]?.equals(frame)).to.equal(true);
    await sub.quit();
  });

  it('pollInit / pollApply: counters created once, each voter counted once, -1 when lost', async () => {
    const keys: [string, string, string] = [k('tally'), k('voters'), k('poll')];
    expect(await s.pollInit(keys, ['{"id":1}', 'a', 'b'])).to.equal(1);
    expect(await redis.hgetall(k('tally'))).to.deep.equal({ a: '0', b: '0' });
    expect(await redis.smembers(k('voters'))).to.deep.equal(['']);
    const tally = await s.pollApply([k('tally'), k('voters')], ['v1', 'a', 'v2', 'b', 'v1', 'b']);
    expect(tally).to.have.members(['a', '1', 'b', '1']);
    // A second init keeps the counts and adds a new option at 0.
    expect(await s.pollInit(keys, ['{"id":1,"x":1}', 'a', 'b', 'c'])).to.equal(0);
    expect(await redis.hgetall(k('tally'))).to.deep.equal({ a: '1', b: '1', c: '0' });
    expect(await redis.get(k('poll'))).to.equal('{"id":1,"x":1}');
    await redis.del(k('voters'));
    expect(await s.pollApply([k('tally'), k('voters')], ['v3', 'a'])).to.equal(-1);
  });

  it('catchupPush: push, trim, expire and publish the same bytes in one call', async () => {
    const frame = Buffer.from([0, 1, 2, 255]);
    const seen: Buffer[] = [];
    const chan = k('chan');
    const onBuf = (ch: Buffer, msg: Buffer) => ch.toString() === chan && seen.push(msg);
    sub.on('messageBuffer', onBuf);
    await sub.subscribe(chan);
    for (let i = 0; i < 4; i++) expect(await s.catchupPush([k('ring')], [frame, 3, 5000, i === 3 ? chan : ''])).to.equal(1);
    await sub.ping();
    await sub.unsubscribe(chan);
    sub.off('messageBuffer', onBuf);
    expect(await redis.llen(k('ring'))).to.equal(3);
    expect(await redis.pttl(k('ring'))).to.be.within(1, 5000);
    expect((await redis.lrangeBuffer(k('ring'), 0, 0))[0].equals(frame)).to.equal(true);
    expect(seen.map((b) => b.equals(frame))).to.deep.equal([true]);
  });

  describe('cluster commands', () => {
    const names = () => ({
      streams: k('streams'),
      viewers: k('viewers'),
      nodes: k('nodes'),
      nv: k('nv:'),
      catchup: k('catchup:'),
      channel: k('events'),
    });

    it('clusterDelta: counts joins of a registered stream, undoes only this node’s, publishes totals', async () => {
      const n = names();
      await redis.hset(n.streams, 'sk', JSON.stringify({ sid: 's1', node: 'n1' }));
      const keys: [string, string, string, string] = [n.streams, k('state'), n.viewers, `${n.nv}n1`];
      const events = await published(n.channel, async () => {
        expect(await s.clusterDelta(keys, ['sk', 1, n.channel])).to.equal(1);
        expect(await s.clusterDelta(keys, ['sk', 1, n.channel])).to.equal(2);
        expect(await s.clusterDelta(keys, ['sk', -5, n.channel])).to.equal(0);
      });
      expect(events).to.deep.equal([1, 2, 0].map((count) => ({ type: 'viewers', streamKey: 'sk', count })));
      expect(await s.clusterDelta(keys, ['nope', 1, n.channel])).to.equal(-1);
      // A server-rendered stream (state hash active) counts too.
      await redis.hset(k('state'), 'active', 'true');
      expect(await s.clusterDelta(keys, ['other', 1, n.channel])).to.equal(1);
      // A leave on a node that counted nothing answers the total and changes nothing.
      expect(await s.clusterDelta([n.streams, k('state'), n.viewers, `${n.nv}n2`], ['other', -1, n.channel])).to.equal(1);
    });

    it('clusterEnd: ends a stream (only the given sid), clears its counts and catch-up, says so', async () => {
      const n = names();
      await redis.hset(n.streams, 'sk', JSON.stringify({ sid: 's1', node: 'n1' }));
      await redis.hset(n.nodes, 'n1', '1');
      await redis.hset(`${n.nv}n1`, 'sk', '2');
      await redis.hset(n.viewers, 'sk', '2');
      await redis.rpush(`${n.catchup}sk`, 'f');
      const keys: [string, string, string] = [n.streams, n.viewers, n.nodes];
      expect(await s.clusterEnd(keys, [n.nv, n.catchup, n.channel, 'sk', 'other-sid', 'x'])).to.equal(0);
      const events = await published(n.channel, async () => {
        expect(await s.clusterEnd(keys, [n.nv, n.catchup, n.channel, 'sk', 's1', 'stream_end'])).to.equal(1);
      });
      expect(events).to.deep.equal([{ type: 'ended', streamKey: 'sk', sid: 's1', reason: 'stream_end' }]);
      expect(await redis.exists(n.streams, n.viewers, `${n.nv}n1`, `${n.catchup}sk`)).to.equal(0);
      expect(await s.clusterEnd(keys, [n.nv, n.catchup, n.channel, 'sk', '', 'again'])).to.equal(0);
    });

    it('clusterResync: sets this node’s counts to its truth, re-adding only registered streams', async () => {
      const n = names();
      await redis.hset(n.streams, 'a', JSON.stringify({ sid: 's', node: 'n1' }));
      await redis.hset(`${n.nv}n1`, 'a', '5', 'gone', '2');
      await redis.hset(n.viewers, 'a', '7', 'gone', '2');
      const keys: [string, string, string] = [n.streams, n.viewers, `${n.nv}n1`];
      expect(await s.clusterResync(keys, [n.channel, 'a', 3, 'unregistered', 4])).to.equal(1);
      expect(await redis.hgetall(`${n.nv}n1`)).to.deep.equal({ a: '3' });
      expect(await redis.hgetall(n.viewers)).to.deep.equal({ a: '5' });
    });

    it('clusterReap: takes back a dead node’s viewers and ends its streams; leaves a live node alone', async () => {
      const n = names();
      await redis.hset(n.streams, 'mine', JSON.stringify({ sid: 's1', node: 'dead' }), 'theirs', JSON.stringify({ sid: 's2', node: 'n2' }));
      await redis.hset(n.nodes, 'dead', '1', 'n2', '1');
      await redis.hset(`${n.nv}dead`, 'theirs', '2');
      await redis.hset(n.viewers, 'theirs', '3');
      await redis.set(k('alive:n2'), '1');
      const keys: [string, string, string] = [n.streams, n.viewers, n.nodes];
      expect(await s.clusterReap(keys, [n.nv, n.catchup, n.channel, 'n2', k('alive:n2')])).to.equal(0);
      const events = await published(n.channel, async () => {
        expect(await s.clusterReap(keys, [n.nv, n.catchup, n.channel, 'dead', k('alive:dead')])).to.equal(1);
      });
      expect(events).to.deep.include({ type: 'viewers', streamKey: 'theirs', count: 1 });
      expect(events).to.deep.include({ type: 'ended', streamKey: 'mine', sid: 's1', reason: 'streamer_node_lost' });
      expect(await redis.hkeys(n.streams)).to.deep.equal(['theirs']);
      expect(await redis.hkeys(n.nodes)).to.deep.equal(['n2']);
      expect(await s.clusterReap(keys, [n.nv, n.catchup, n.channel, 'dead', k('alive:dead')])).to.equal(0);
    });
  });

  it('survive a Redis restart (an empty script cache): ioredis falls back to EVAL, in pipelines too', async function () {
    // A private redis-server: SCRIPT FLUSH on the shared test Redis would break parallel runs.
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const start = async () => {
      const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await waitFor(() => redisAnswers(url, 300), 10_000, 100, 'redis-server to answer');
      return child;
    };
    let child = await start();
    const own = new Redis(url, { retryStrategy: () => 100 });
    own.on('error', () => {});
    try {
      const mine = defineScripts(own);
      expect(await mine.leaseHold(['lease'], ['w1', 5000])).to.equal(1);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      child = await start();
      await waitFor(() => own.status === 'ready', 10_000, 50, 'the client to reconnect');
      expect(await own.script('EXISTS', createHash('sha1').update(scriptSources().leaseHold).digest('hex'))).to.deep.equal([0]);
      expect(await mine.leaseHold(['lease'], ['w1', 5000])).to.equal(1);
      await own.script('FLUSH');
      const pipe = own.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown> & { exec(): Promise<[Error | null, unknown][]> };
      pipe.leaseRelease('lease', 'w1');
      expect(await pipe.exec()).to.deep.equal([[null, 1]]);
    } finally {
      own.disconnect();
      child.kill('SIGKILL');
    }
  });
});
