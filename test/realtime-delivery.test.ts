// The split realtime modules on their own, with a real socket.io server and clients and real
// Redis: the backlog tracker, backpressure in Delivery, the one encode per frame per node
// that the room broadcast gives, and the subscriptions of LocalStreams.
import { expect } from 'chai';
import type net from 'node:net';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { backlogOf } from '../src/realtime/backlog.js';
import { busFanout } from '../src/realtime/fanout.js';
import { LocalStreams } from '../src/realtime/local-streams.js';
import { adapterFanout } from '../bench/realtime/adapter-fanout.js';
import { REDIS_URL, startNode, streamer, until, viewer, type Client, type Node } from './fixtures/realtime.js';
import { Subscriber } from '../src/redis/index.js';

/** The client's TCP socket (socket.io-client on Node runs over ws). */
const tcpOf = (c: Client) => (c.io.engine.transport as unknown as { ws: { _socket: net.Socket } }).ws._socket;

describe('realtime: delivery and backpressure (split modules)', function () {
  this.timeout(90_000);
  let node: Node;
  const sockets: Client[] = [];
  const track = <T extends Client>(s: T) => (sockets.push(s), s);

  before(async () => {
    node = await startNode({ maxBacklogBytes: 64 * 1024 });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  after(() => node.close());

  it('backlogOf: grows while a client does not read, back to 0 once it reads again', async () => {
    const v = track(await viewer(node.url));
    const server = node.rt.io.of('/').sockets.get(v.id!)!;
    const b = backlogOf(server);
    expect(b.bytes()).to.equal(0);
    const tcp = tcpOf(v);
    tcp.pause();
    const chunk = Buffer.alloc(256 * 1024, 7);
    for (let i = 0; i < 80; i++) server.emit('stream:data', { streamKey: 'k', data: chunk, timestamp: 0, seq: i });
    await until(() => b.bytes() > 1024 * 1024, 20_000, 'a backlog over 1 MiB');
    tcp.resume();
    await until(() => b.bytes() === 0, 30_000, 'the backlog drained');
  });

  it('a viewer that stops reading skips frames; the others get every frame; each gets them in order, once', async () => {
    const st = await streamer(node.url);
    track(st.s);
    const fast = track(await viewer(node.url, 'fast'));
    const slow = track(await viewer(node.url, 'slow'));
    for (const v of [fast, slow]) expect((await v.emitWithAck('stream:join', { streamKey: st.key })).ok).to.equal(true);
    const seqs = new Map<Client, number[]>([[fast, []], [slow, []]]);
    for (const [v, list] of seqs) v.on('stream:data', (f) => list.push(f.seq));
    const tcp = tcpOf(slow);
    tcp.pause();
    const frame = Buffer.alloc(128 * 1024, 1);
    const N = 200; // 25 MiB: more than the kernel's socket buffers hold
    for (let i = 0; i < N; i++) await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: frame });
    await until(() => seqs.get(fast)!.length === N, 60_000, 'every frame on the fast viewer');
    const slowStats = node.rt.distributor.viewerStats(st.key).find((s) => s.socketId === slow.id);
    expect(slowStats?.skipped, 'frames skipped for the slow viewer').to.be.greaterThan(0);
    tcp.resume();
    // Once it has drained, it gets new frames again.
    await until(async () => {
      await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: frame });
      return seqs.get(slow)!.at(-1) === seqs.get(fast)!.at(-1);
    }, 60_000, 'the slow viewer back on live frames');
    const got = seqs.get(slow)!;
    expect(got.length).to.be.lessThan(seqs.get(fast)!.length);
    for (let i = 1; i < got.length; i++) expect(got[i]).to.be.greaterThan(got[i - 1]);
    expect(seqs.get(fast)).to.deep.equal(Array.from({ length: seqs.get(fast)!.length }, (_, i) => i + 1));
  });

  // Pins what delivery.ts relies on: socket.io's room broadcast encodes a packet once for all
  // its sockets. If an upgrade changes that (or renames the encoder), this fails.
  it('a frame is encoded once for all the viewers of a node, and binary stays binary', async () => {
    const st = await streamer(node.url);
    track(st.s);
    const vs = await Promise.all([viewer(node.url), viewer(node.url), viewer(node.url)]);
    vs.forEach(track);
    for (const v of vs) expect((await v.emitWithAck('stream:join', { streamKey: st.key })).ok).to.equal(true);
    const got: Buffer[] = [];
    vs.forEach((v) => v.on('stream:data', (f) => got.push(f.data as Buffer)));
    const encoder = (node.rt.io as unknown as { encoder: { encode(p: { data?: unknown[] }): unknown[] } }).encoder;
    const encode = encoder.encode;
    let encodes = 0;
    encoder.encode = function (p) {
      if (p.data?.[0] === 'stream:data') encodes += 1;
      return encode.call(this, p);
    };
    try {
      const bytes = Buffer.from([0, 1, 2, 255]);
      await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: bytes });
      await until(() => got.length === 3, 10_000, 'the frame on 3 viewers');
      expect(encodes).to.equal(1);
      for (const b of got) expect(Buffer.isBuffer(b) && Buffer.compare(b, bytes) === 0).to.equal(true);
    } finally {
      encoder.encode = encode;
    }
  });
});

describe('realtime: LocalStreams subscriptions (real Redis)', function () {
  let redis: Redis;
  let sub: Redis;
  const limits = { frames: 30, bytes: 1 << 20, ageMs: 30_000 };
  const watched: string[] = [];
  const watcher = { watch: async (k: string) => void watched.push(`+${k}`), unwatch: async (k: string) => void watched.push(`-${k}`) };
  const numsub = async (ch: string) => Number(((await redis.pubsub('NUMSUB', ch)) as [string, number])[1]);

  before(() => {
    redis = new Redis(REDIS_URL);
    sub = new Redis(REDIS_URL);
  });
  after(() => {
    redis.disconnect();
    sub.disconnect();
  });

  it('a socket stream watched here subscribes to its frame channel once, and lets go when released', async () => {
    const streams = new LocalStreams(limits, new Subscriber(sub), watcher, busFanout, () => {});
    const ls = streams.ensure('ls-unit-a', 'socket', 'sid', 'x', true);
    expect(streams.ensure('ls-unit-a', 'server', 'other', null, false)).to.equal(ls);
    await streams.subscribe(ls);
    await streams.subscribe(ls);
    expect(await numsub(keys.rtFrames('ls-unit-a'))).to.equal(1);
    streams.release(ls);
    expect(streams.get('ls-unit-a')).to.equal(undefined);
    await until(async () => (await numsub(keys.rtFrames('ls-unit-a'))) === 0, 5000, 'unsubscribed');
  });

  it('a server-rendered stream is watched through the feed hub; no channel with the adapter fan-out', async () => {
    watched.length = 0;
    const streams = new LocalStreams(limits, new Subscriber(sub), watcher, adapterFanout, () => {});
    const server = streams.ensure('ls-unit-b', 'server', 'task', null, true);
    expect(server.ring).to.not.equal(null);
    const socket = streams.ensure('ls-unit-c', 'socket', 'sid', 'x', true);
    await streams.subscribe(server);
    await streams.subscribe(socket);
    expect(socket.subscribed).to.equal(false);
    streams.release(server);
    streams.release(socket);
    expect(watched).to.deep.equal(['+ls-unit-b', '-ls-unit-b']);
    expect(streams.all()).to.deep.equal([]);
  });
});
