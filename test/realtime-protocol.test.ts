// The seeds' socket.io protocol end to end on one web node (real socket.io clients, real Redis).
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { CATCHUP_FRAMES } from '../src/realtime/protocol.js';
import { REDIS_URL, client, connected, once, ringHas, startNode, streamer, until, viewer, sleep, type Client, type Node } from './fixtures/realtime.js';

describe('realtime: protocol on one node', function () {
  let node: Node;
  let redis: Redis;
  const sockets: Client[] = [];
  const track = <T extends Client>(s: T) => (sockets.push(s), s);

  before(async () => {
    node = await startNode({}, { MAX_FRAME_BYTES: '65536' });
    redis = new Redis(REDIS_URL);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  after(async () => {
    await node.close();
    redis.disconnect();
  });

  it('registers a streamer (stream:created) and a viewer, who joins and gets frames with a timestamp', async () => {
    const st = await streamer(node.url);
    track(st.s);
    expect(st.key).to.match(/^[A-Za-z0-9_-]{16}$/);
    const started = once(st.s, 'stream:started');
    st.s.emit('stream:start', { streamKey: st.key });
    expect((await started).stream).to.include({ streamKey: st.key, live: true, kind: 'socket' });

    const v = track(await viewer(node.url));
    const joined = once(v, 'stream:joined');
    const buffer = once(v, 'stream:buffer');
    const count = once(st.s, 'stream:viewers');
    v.emit('stream:join', { streamKey: st.key });
    expect((await joined).stream.streamKey).to.equal(st.key);
    expect((await buffer).frames).to.deep.equal([]);
    expect(await count).to.deep.equal({ streamKey: st.key, count: 1 });

    const data = once(v, 'stream:data');
    const before = Date.now();
    const ack = await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: 'aGVsbG8=' });
    expect(ack).to.deep.include({ ok: true, seq: 1, viewers: 1 });
    const f = await data;
    expect(f.data).to.equal('aGVsbG8=');
    expect(f.timestamp).to.be.within(before - 5, Date.now() + 5);
  });

  it('a late joiner gets the last 30 frames, oldest first, then live frames, with no gap or repeat', async () => {
    const st = await streamer(node.url);
    track(st.s);
    st.s.emit('stream:start', { streamKey: st.key });
    for (let i = 1; i <= 45; i++) st.s.emit('stream:data:send', { streamKey: st.key, data: `frame-${i}` });
    await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: 'frame-46' });
    await ringHas(redis, st.key, 46);

    const v = track(await viewer(node.url));
    const got: string[] = [];
    let buffered = 0;
    v.on('stream:buffer', ({ frames }) => {
      buffered = frames.length;
      got.push(...frames.map((f) => String(f.data)));
    });
    v.on('stream:data', (f) => got.push(String(f.data)));
    const joining = v.emitWithAck('stream:join', { streamKey: st.key });
    // Live frames sent while the join is in progress must come after the catch-up, once each.
    for (let i = 47; i <= 60; i++) st.s.emit('stream:data:send', { streamKey: st.key, data: `frame-${i}` });
    expect((await joining).ok).to.equal(true);
    await until(() => got.includes('frame-60'), 3000, 'frame-60');
    await sleep(50);
    // However the join interleaves with the live frames: the buffer is the 30 newest frames at
    // that moment, and the whole sequence is consecutive, in order, each frame once.
    expect(buffered).to.equal(CATCHUP_FRAMES);
    const first = Number(got[0].slice('frame-'.length));
    expect(first).to.be.within(46 - CATCHUP_FRAMES + 1, 60 - CATCHUP_FRAMES + 1);
    const expected = Array.from({ length: 60 - first + 1 }, (_, i) => `frame-${first + i}`);
    expect(got).to.deep.equal(expected);
  });

  it('binary frames stay binary and base64 frames stay strings, byte-exact', async () => {
    const st = await streamer(node.url);
    track(st.s);
    const v = track(await viewer(node.url));
    await v.emitWithAck('stream:join', { streamKey: st.key });
    const bin = Buffer.alloc(50_000);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 7 + 3) & 0xff;
    const b64 = bin.toString('base64').slice(0, 60_000);
    const frames: unknown[] = [];
    v.on('stream:data', (f) => frames.push(f.data));
    st.s.emit('stream:data:send', { streamKey: st.key, data: bin });
    st.s.emit('stream:data:send', { streamKey: st.key, data: b64 });
    st.s.emit('stream:data:send', { streamKey: st.key, data: new Uint8Array([0, 255, 1, 254]) });
    await until(() => frames.length === 3, 3000, '3 frames');
    expect(Buffer.isBuffer(frames[0])).to.equal(true);
    expect(Buffer.compare(frames[0] as Buffer, bin)).to.equal(0);
    expect(frames[1]).to.equal(b64);
    expect([...(frames[2] as Buffer)]).to.deep.equal([0, 255, 1, 254]);

    // Through the catch-up ring (Redis) too.
    const late = track(await viewer(node.url));
    const buf = once(late, 'stream:buffer');
    late.emit('stream:join', { streamKey: st.key });
    const { frames: caught } = await buf;
    expect(caught).to.have.length(3);
    expect(Buffer.compare(caught[0].data as Buffer, bin)).to.equal(0);
    expect(caught[1].data).to.equal(b64);
    expect([...(caught[2].data as Buffer)]).to.deep.equal([0, 255, 1, 254]);
  });

  it('only the stream\'s own streamer may send or end it', async () => {
    const st = await streamer(node.url);
    track(st.s);
    const other = await streamer(node.url, 'intruder');
    track(other.s);
    const v = track(await viewer(node.url));
    await v.emitWithAck('stream:join', { streamKey: st.key });
    let leaked = 0;
    v.on('stream:data', () => leaked++);

    const err = once(other.s, 'error');
    const r = await other.s.emitWithAck('stream:data:send', { streamKey: st.key, data: 'evil' });
    expect(r.ok).to.equal(false);
    expect((await err).code).to.equal('not_stream_owner');
    const r2 = await v.emitWithAck('stream:data:send', { streamKey: st.key, data: 'evil' });
    expect(r2).to.deep.include({ ok: false });
    expect((r2 as { error: { code: string } }).error.code).to.equal('not_streamer');
    const r3 = await other.s.emitWithAck('stream:end', { streamKey: st.key });
    expect((r3 as { error: { code: string } }).error.code).to.equal('not_stream_owner');
    const anon = track(await connected(client(node.url)));
    const r4 = await anon.emitWithAck('stream:data:send', { streamKey: st.key, data: 'evil' });
    expect((r4 as { error: { code: string } }).error.code).to.equal('not_registered');
    await sleep(100);
    expect(leaked).to.equal(0);
  });

  it('stream:end and a disconnecting streamer end the stream for its viewers', async () => {
    const st = await streamer(node.url);
    track(st.s);
    const v = track(await viewer(node.url));
    await v.emitWithAck('stream:join', { streamKey: st.key });
    const ended = once(v, 'stream:ended');
    await st.s.emitWithAck('stream:end', { streamKey: st.key });
    expect(await ended).to.deep.equal({ streamKey: st.key, reason: 'ended_by_streamer' });
    expect(await redis.hexists(keys.rtStreams(), st.key)).to.equal(0);
    const j = await v.emitWithAck('stream:join', { streamKey: st.key });
    expect((j as { error: { code: string } }).error.code).to.equal('stream_not_found');

    // The same streamer starts again (a new session), then disconnects.
    await st.s.emitWithAck('stream:start', { streamKey: st.key });
    expect((await v.emitWithAck('stream:join', { streamKey: st.key })).ok).to.equal(true);
    const ended2 = once(v, 'stream:ended');
    st.s.disconnect();
    expect(await ended2).to.deep.equal({ streamKey: st.key, reason: 'streamer_disconnected' });
    await until(async () => (await redis.hexists(keys.rtStreams(), st.key)) === 0, 2000, 'registry cleared');
    expect(await redis.exists(keys.catchup(st.key))).to.equal(0);
    expect(await redis.hexists(keys.rtViewers(), st.key)).to.equal(0);
  });

  it('a viewer that leaves or disconnects is taken out of the count', async () => {
    const st = await streamer(node.url);
    track(st.s);
    const counts: number[] = [];
    st.s.on('stream:viewers', ({ count }) => counts.push(count));
    const a = track(await viewer(node.url));
    const b = track(await viewer(node.url));
    await a.emitWithAck('stream:join', { streamKey: st.key });
    await b.emitWithAck('stream:join', { streamKey: st.key });
    await until(() => counts.at(-1) === 2, 2000, 'count 2');
    expect(await redis.hget(keys.rtViewers(), st.key)).to.equal('2');
    await a.emitWithAck('stream:leave', { streamKey: st.key });
    b.disconnect();
    await until(() => counts.at(-1) === 0, 2000, 'count 0');
    expect(await redis.hget(keys.rtViewers(), st.key)).to.equal(null);
    const stats = await node.rt.stats();
    expect(stats.scope).to.equal('cluster');
  });
});
