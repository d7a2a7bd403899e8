// Several web nodes sharing Redis: streamer on one node, viewers on others (in-process nodes and
// one node in its own process), counts and catch-up across nodes, a dead node taken back.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { CATCHUP_FRAMES } from '../src/realtime/protocol.js';
import { adapterFanout } from '../bench/realtime/adapter-fanout.js';
import { REDIS_URL, catchup, once, ringHas, spawnNode, startNode, streamer, until, viewer, sleep, type Client, type Node } from './fixtures/realtime.js';

describe('realtime: several web nodes', function () {
  this.timeout(30_000);
  let a: Node;
  let b: Node;
  let redis: Redis;
  const sockets: Client[] = [];
  const track = <T extends Client>(s: T) => (sockets.push(s), s);

  before(async () => {
    [a, b] = await Promise.all([startNode(), startNode()]);
    redis = new Redis(REDIS_URL);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    redis.disconnect();
  });

  it('streamer on A, viewers on B: catch-up from Redis, live frames, counts, end', async () => {
    const st = await streamer(a.url);
    track(st.s);
    await st.s.emitWithAck('stream:start', { streamKey: st.key });
    for (let i = 1; i <= 40; i++) st.s.emit('stream:data:send', { streamKey: st.key, data: Buffer.from(`frame-${i}`) });
    await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: Buffer.from('frame-41') });
    await ringHas(redis, st.key, 41);

    const counts: number[] = [];
    st.s.on('stream:viewers', ({ count }) => counts.push(count));
    const vb = track(await viewer(b.url, 'on-b'));
    const va = track(await viewer(a.url, 'on-a'));
    const buf = catchup(vb);
    const jb = await vb.emitWithAck('stream:join', { streamKey: st.key });
    expect(jb.ok).to.equal(true);
    const frames = await buf;
    expect(frames.map((f) => f.data.toString())).to.deep.equal(
      Array.from({ length: CATCHUP_FRAMES }, (_, i) => `frame-${41 - CATCHUP_FRAMES + 1 + i}`),
    );
    expect(Buffer.isBuffer(frames[0].data)).to.equal(true);
    await va.emitWithAck('stream:join', { streamKey: st.key });
    await until(() => counts.at(-1) === 2, 3000, 'count 2 on the streamer');

    const gotB: string[] = [];
    const gotA: string[] = [];
    vb.on('stream:data', (f) => gotB.push(f.data.toString()));
    va.on('stream:data', (f) => gotA.push(f.data.toString()));
    const ack = await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: Buffer.from('frame-42') });
    expect(ack).to.deep.include({ ok: true, viewers: 2 });
    await until(() => gotB.length === 1 && gotA.length === 1, 3000, 'frame 42 on both nodes');
    expect(gotB).to.deep.equal(['frame-42']);

    // /health on B sees the whole cluster.
    const health = await (await fetch(`${b.url}/health`)).json();
    expect(health.scope).to.equal('cluster');
    expect(health.connectedUsers).to.be.at.least(3);
    const detail = health.distribution.streamDetails.find((d: { streamKey: string }) => d.streamKey.startsWith(st.key.slice(0, 4)));
    expect(detail).to.include({ kind: 'socket', live: true, viewers: 2, bufferSize: CATCHUP_FRAMES });
    expect(health.distribution.totalViewers).to.be.at.least(2);

    const endedB = once(vb, 'stream:ended');
    const endedA = once(va, 'stream:ended');
    st.s.disconnect();
    expect(await endedB).to.deep.equal({ streamKey: st.key, reason: 'streamer_disconnected' });
    expect((await endedA).reason).to.equal('streamer_disconnected');
    await until(async () => (await redis.hexists(keys.rtViewers(), st.key)) === 0, 2000, 'counts gone');
  });

  it('a viewer joining on another node while frames flow gets a gapless, repeat-free sequence', async () => {
    const st = await streamer(a.url);
    track(st.s);
    let n = 0;
    const timer = setInterval(() => st.s.emit('stream:data:send', { streamKey: st.key, data: `f${++n}` }), 2);
    try {
      await until(() => n > CATCHUP_FRAMES, 10_000, 'frames flowing');
      for (let round = 0; round < 5; round++) {
        const v = track(await viewer(b.url));
        const got: number[] = [];
        v.on('stream:buffer', ({ frames }) => got.push(...frames.map((f) => Number(String(f.data).slice(1)))));
        v.on('stream:data', (f) => got.push(Number(String(f.data).slice(1))));
        await v.emitWithAck('stream:join', { streamKey: st.key });
        // (a condition, not a window: on a loaded machine live frames may take a while)
        await until(() => got.length > CATCHUP_FRAMES + 3, 10_000, 'live frames after the catch-up');
        for (let i = 1; i < got.length; i++) expect(got[i], `after ${got[i - 1]}`).to.equal(got[i - 1] + 1);
        v.disconnect();
      }
    } finally {
      clearInterval(timer);
    }
  });

  it('a web node in its own process: streamer there, viewer here; its death ends the stream', async () => {
    const c = await spawnNode();
    try {
      const st = await streamer(c.url);
      track(st.s);
      await st.s.emitWithAck('stream:start', { streamKey: st.key });
      const count = once(st.s, 'stream:viewers');
      const v = track(await viewer(a.url));
      await v.emitWithAck('stream:join', { streamKey: st.key });
      const data = once(v, 'stream:data');
      const bytes = Buffer.from([1, 2, 3, 250, 0, 9]);
      await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: bytes });
      expect(Buffer.compare((await data).data as Buffer, bytes)).to.equal(0);
      expect((await count).count).to.equal(1);

      // The node dies without a word: after its heartbeat TTL another node ends its streams.
      const ended = once(v, 'stream:ended', 15_000);
      c.child.kill('SIGKILL');
      expect(await ended).to.deep.equal({ streamKey: st.key, reason: 'streamer_node_lost' });
      expect(await redis.hexists(keys.rtStreams(), st.key)).to.equal(0);
    } finally {
      await c.close();
    }
  });

  it('viewers in a child process, streamer here; /health counts the child node\'s users until it goes', async () => {
    const c = await spawnNode();
    try {
      const st = await streamer(b.url);
      track(st.s);
      const vs = await Promise.all([viewer(c.url), viewer(c.url), viewer(c.url)]);
      vs.forEach(track);
      await Promise.all(vs.map((v) => v.emitWithAck('stream:join', { streamKey: st.key })));
      const got = vs.map(() => 0);
      vs.forEach((v, i) => v.on('stream:data', () => got[i]++));
      for (let i = 0; i < 10; i++) await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: `x${i}` });
      await until(() => got.every((g) => g === 10), 3000, '10 frames on each');
      // (user counts reach Redis within 200 ms of a change)
      await until(async () => (await a.rt.stats()).connectedUsers >= 4, 3000, '4 users');
      const h1 = await a.rt.stats();
      expect(h1.distribution.streamDetails.find((d) => d.streamKey.startsWith(st.key.slice(0, 4)))?.viewers).to.equal(3);
      c.child.kill('SIGKILL');
      // Its users and viewers disappear once its heartbeat expires.
      await until(async () => (await redis.hget(keys.rtViewers(), st.key)) === null, 15_000, 'viewers taken back');
      const h2 = await a.rt.stats();
      expect(h2.connectedUsers).to.equal(h1.connectedUsers - 3);
    } finally {
      await c.close();
    }
  });

  it('a viewers\' node shutting down drops them without "ended"; the stream goes on and they rejoin elsewhere', async () => {
    const c = await startNode();
    const st = await streamer(a.url);
    track(st.s);
    const v = track(await viewer(c.url));
    await v.emitWithAck('stream:join', { streamKey: st.key });
    let ended = 0;
    v.on('stream:ended', () => ended++);
    const gone = new Promise((r) => v.once('disconnect', r));
    await c.close();
    await gone;
    expect(ended).to.equal(0);
    await until(async () => (await redis.hget(keys.rtViewers(), st.key)) === null, 3000, 'its count gone');
    const again = track(await viewer(b.url));
    expect((await again.emitWithAck('stream:join', { streamKey: st.key })).ok).to.equal(true);
    const data = once(again, 'stream:data');
    await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: 'on' });
    expect((await data).data).to.equal('on');
  });

  it('works the same with fan-out through the socket.io Redis adapter', async () => {
    const [x, y] = await Promise.all([startNode({ fanout: adapterFanout }), startNode({ fanout: adapterFanout })]);
    try {
      const st = await streamer(x.url);
      track(st.s);
      const v = track(await viewer(y.url));
      await v.emitWithAck('stream:join', { streamKey: st.key });
      const data = once(v, 'stream:data');
      await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: Buffer.from('via adapter') });
      expect((await data).data.toString()).to.equal('via adapter');
    } finally {
      await Promise.all([x.close(), y.close()]);
    }
  });
});
