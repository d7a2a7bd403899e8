// Bad payloads get an `error` event (and {ok:false} on an ack), never a crash: the server keeps
// serving everyone else.
import { expect } from 'chai';
import { client, connected, once, startNode, streamer, until, viewer, sleep, type Client, type Node } from './fixtures/realtime.js';

describe('realtime: bad payloads', function () {
  let node: Node;
  const sockets: Client[] = [];
  const track = <T extends Client>(s: T) => (sockets.push(s), s);

  before(async () => {
    node = await startNode({}, { MAX_FRAME_BYTES: '65536' });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  after(() => node.close());

  const raw = (s: Client) => s as unknown as { emit(e: string, ...a: unknown[]): void; emitWithAck(e: string, ...a: unknown[]): Promise<any> };

  it('answers wrong types, missing keys and unknown events with error events', async () => {
    const st = await streamer(node.url);
    track(st.s);
    const errors: { code: string; event?: string }[] = [];
    st.s.on('error', (e) => errors.push(e));
    const r = raw(st.s);
    r.emit('stream:data:send', { streamKey: st.key, data: 123 });
    r.emit('stream:data:send', { data: 'abc' });
    r.emit('stream:data:send', 'not an object');
    r.emit('stream:data:send', null);
    r.emit('stream:data:send', { streamKey: st.key, data: '' });
    r.emit('stream:join', {});
    r.emit('stream:join', { streamKey: '../../etc/passwd' });
    r.emit('stream:start', { streamKey: st.key, extra: true });
    r.emit('user:register', { username: 'x', role: 'ADMIN' });
    r.emit('vote:cast', { option: 42 });
    r.emit('no:such:event', { a: 1 });
    r.emit('stream:join', { streamKey: 'doesNotExist123' });
    await until(() => errors.length === 12, 3000, '12 errors');
    // (unknown events are answered first: socket.io runs catch-all listeners synchronously)
    expect(errors.map((e) => e.code).sort()).to.deep.equal([
      ...Array(10).fill('invalid_payload'),
      'stream_not_found',
      'unknown_event',
    ]);
    expect(errors.find((e) => e.code === 'unknown_event')?.event).to.equal('no:such:event');
    expect(errors.filter((e) => e.event === 'stream:data:send')).to.have.length(5);
    const ack = await r.emitWithAck('stream:join', {});
    expect(ack.ok).to.equal(false);
    expect(ack.error.code).to.equal('invalid_payload');
    expect(ack.error.message).to.match(/streamKey/);
    expect(st.s.connected).to.equal(true);
  });

  it('refuses a frame over MAX_FRAME_BYTES without dropping the connection, and keeps serving', async () => {
    const st = await streamer(node.url);
    track(st.s);
    const v = track(await viewer(node.url));
    await v.emitWithAck('stream:join', { streamKey: st.key });
    const got: unknown[] = [];
    v.on('stream:data', (f) => got.push(f.data));
    const err = once(st.s, 'error');
    const r = await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: Buffer.alloc(100_000, 1) });
    expect(r.ok).to.equal(false);
    expect((await err).code).to.equal('frame_too_large');
    const r2 = await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: 'x'.repeat(70_000) });
    expect((r2 as { error: { code: string } }).error.code).to.equal('frame_too_large');
    await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: Buffer.alloc(65_536, 2) });
    await until(() => got.length === 1, 2000, 'the good frame');
    expect((got[0] as Buffer).length).to.equal(65_536);
    expect(st.s.connected).to.equal(true);
  });

  it('a flood of bad events gets a bounded number of error events and does not disturb others', async () => {
    const st = await streamer(node.url);
    track(st.s);
    const v = track(await viewer(node.url));
    await v.emitWithAck('stream:join', { streamKey: st.key });
    const bad = track(await connected(client(node.url)));
    let errors = 0;
    bad.on('error', () => errors++);
    for (let i = 0; i < 2000; i++) raw(bad).emit(i % 2 ? 'stream:data:send' : 'garbage', { nonsense: i });
    let frames = 0;
    v.on('stream:data', () => frames++);
    for (let i = 0; i < 20; i++) await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: `f${i}` });
    await until(() => frames === 20, 3000, '20 frames');
    await sleep(200);
    expect(errors).to.be.within(1, 60);
    expect(bad.connected).to.equal(true);
  });

  it('a message over the transport limit drops only that connection', async () => {
    const st = await streamer(node.url);
    track(st.s);
    const v = track(await viewer(node.url));
    await v.emitWithAck('stream:join', { streamKey: st.key });
    const huge = await streamer(node.url, 'huge');
    track(huge.s);
    const gone = new Promise((r) => huge.s.once('disconnect', r));
    huge.s.emit('stream:data:send', { streamKey: huge.key, data: Buffer.alloc(600_000) });
    await gone;
    const f = once(v, 'stream:data');
    await st.s.emitWithAck('stream:data:send', { streamKey: st.key, data: 'still here' });
    expect((await f).data).to.equal('still here');
  });
});
