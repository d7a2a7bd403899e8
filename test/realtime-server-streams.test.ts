// Server-rendered streams reach socket.io viewers: frames a worker publishes on the frame bus
// (sf:frames:{key}, encodeFrame) for a stream whose state hash is active go to that stream's
// room; the bus's `ended` event or the state going inactive ends it for the viewers.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { encodeFrame, type EndedEvent } from '../src/streams/bus.js';
import { REDIS_URL, catchup, once, startNode, until, viewer, sleep, type Client, type Node } from './fixtures/realtime.js';

describe('realtime: server-rendered streams', function () {
  this.timeout(20_000);
  let a: Node;
  let b: Node;
  let redis: Redis;
  const sockets: Client[] = [];
  const made: string[] = [];

  async function activeStream(): Promise<{ key: string; taskId: string }> {
    const key = `rt-test-${crypto.randomBytes(4).toString('hex')}`;
    const taskId = crypto.randomUUID();
    made.push(key);
    // As a worker would: state, active set, and a lease (else any web process's reaper would
    // mark the stream failed as soon as it looks).
    await redis
      .multi()
      .hset(keys.state(key), { active: 'true', task_id: taskId, stream_key: key, heartbeat_at: Date.now() / 1000 })
      .sadd(keys.active(), key)
      .set(keys.lease(key), 'rt-test-worker', 'EX', 60)
      .exec();
    return { key, taskId };
  }
  const jpeg = (i: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), crypto.randomBytes(2000), Buffer.from([i & 0xff, 0xff, 0xd9])]);
  const publish = (key: string, seq: number, data: Buffer) => redis.publish(keys.frames(key), encodeFrame({ seq, ts: Date.now(), jpeg: data }));

  before(async () => {
    redis = new Redis(REDIS_URL);
    [a, b] = await Promise.all([startNode(), startNode()]);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    for (const k of made) await redis.multi().del(keys.state(k), keys.lease(k)).srem(keys.active(), k).exec();
    redis.disconnect();
  });

  it('frames on the bus reach viewers on every node, byte-exact; late joiners get the catch-up', async () => {
    const { key, taskId } = await activeStream();
    const va = await viewer(a.url);
    const vb = await viewer(b.url);
    sockets.push(va, vb);
    const ja = await va.emitWithAck('stream:join', { streamKey: key });
    expect(ja).to.deep.include({ ok: true });
    expect((ja as { stream: { kind: string } }).stream.kind).to.equal('server');
    await vb.emitWithAck('stream:join', { streamKey: key });
    const got: Buffer[][] = [[], []];
    va.on('stream:data', (f) => got[0].push(f.data as Buffer));
    vb.on('stream:data', (f) => got[1].push(f.data as Buffer));
    const sent = Array.from({ length: 40 }, (_, i) => jpeg(i));
    for (let i = 0; i < sent.length; i++) await publish(key, i + 1, sent[i]);
    await until(() => got[0].length === 40 && got[1].length === 40, 5000, '40 frames on both nodes');
    for (let i = 0; i < 40; i++) {
      expect(Buffer.compare(got[0][i], sent[i])).to.equal(0);
      expect(Buffer.compare(got[1][i], sent[i])).to.equal(0);
    }
    // A late joiner on a node already watching gets that node's ring: the 30 newest, in order.
    const late = await viewer(a.url);
    sockets.push(late);
    const buf = catchup(late);
    await late.emitWithAck('stream:join', { streamKey: key });
    const frames = await buf;
    expect(frames.map((f) => f.seq)).to.deep.equal(Array.from({ length: 30 }, (_, i) => 11 + i));
    expect(Buffer.compare(frames[29].data as Buffer, sent[39])).to.equal(0);

    const count = (await a.rt.stats()).distribution.streamDetails.find((d) => d.kind === 'server' && d.streamKey.startsWith(key.slice(0, 4)));
    expect(count?.viewers).to.equal(3);

    // The worker's end: every viewer hears it, and the counts go.
    const endedA = once(va, 'stream:ended');
    const endedB = once(vb, 'stream:ended');
    const ev: EndedEvent = { type: 'ended', streamKey: key, taskId, reason: 'stopped' };
    await redis.multi().del(keys.state(key)).srem(keys.active(), key).publish(keys.events(), JSON.stringify(ev)).exec();
    expect(await endedA).to.deep.equal({ streamKey: key, reason: 'stopped' });
    expect((await endedB).reason).to.equal('stopped');
    await until(async () => (await redis.hget(keys.rtViewers(), key)) === null, 3000, 'counts gone');
  });

  it('a stream whose state goes inactive without an event ends for its viewers', async () => {
    const { key } = await activeStream();
    const v = await viewer(b.url);
    sockets.push(v);
    await v.emitWithAck('stream:join', { streamKey: key });
    const ended = once(v, 'stream:ended', 5000);
    await redis.hset(keys.state(key), 'active', 'false');
    expect((await ended).reason).to.equal('state inactive');
  });

  it('an inactive server stream cannot be joined; an SSE client leaving does not cut the socket viewers', async () => {
    const key = `rt-test-${crypto.randomBytes(4).toString('hex')}`;
    const v = await viewer(a.url);
    sockets.push(v);
    const r = (await v.emitWithAck('stream:join', { streamKey: key })) as { ok: boolean; error?: { code: string } };
    expect(r.error?.code).to.equal('stream_not_found');

    const s = await activeStream();
    await v.emitWithAck('stream:join', { streamKey: s.key });
    const ctl = new AbortController();
    const sse = await fetch(`${a.url}/stream/feed?streamKey=${s.key}`, { signal: ctl.signal });
    expect(sse.status).to.equal(200);
    await sleep(100);
    ctl.abort();
    await sleep(200);
    const got = once(v, 'stream:data');
    await publish(s.key, 1, jpeg(1));
    expect((await got).seq).to.equal(1);
  });

  it('a socket.io viewer marks the stream watched (issue 14), and the mark lapses once it left', async function () {
    this.timeout(30_000);
    const { key } = await activeStream();
    const v = await viewer(a.url);
    sockets.push(v);
    expect(await redis.exists(keys.previewWatched(key))).to.equal(0);
    await v.emitWithAck('stream:join', { streamKey: key });
    // Marked as the node subscribes for its first viewer: the worker raises the preview rate within its next check.
    await until(async () => (await redis.exists(keys.previewWatched(key))) === 1, 3000, 'the watched mark');
    v.disconnect();
    // No longer refreshed: gone within its TTL (6 s).
    await until(async () => (await redis.exists(keys.previewWatched(key))) === 0, 12_000, 'the mark to lapse');
  });
});
