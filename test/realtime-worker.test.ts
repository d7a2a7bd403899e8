// The whole loop: a real worker renders a stream started through the API; a socket.io viewer
// of that stream key gets its JPEG preview frames, then `stream:ended` when it is stopped.
import { expect } from 'chai';
import request from 'supertest';
import { attachRealtime } from '../src/realtime/index.js';
import { startStack, type Stack } from './helpers/stack.js';
import { testConfig, uniqueKey } from './helpers/env.js';
import { once, until, viewer, type Client } from './fixtures/realtime.js';

describe('realtime: a worker-rendered stream reaches socket.io viewers', function () {
  this.timeout(60_000);
  let s: Stack;
  let v: Client | undefined;

  before(async () => {
    s = await startStack({ web: { attach: (server, deps) => attachRealtime(testConfig(), {})(server, deps) } });
  });
  after(async () => {
    v?.disconnect();
    await s?.close();
  });

  it('start → frames (JPEG, binary) → stop → stream:ended', async () => {
    const key = uniqueKey('rt');
    await request(s.url).post('/stream/start').send({ streamKey: key, fps: 10 }).expect(200);
    v = await viewer(s.url);
    const joined = (await v.emitWithAck('stream:join', { streamKey: key })) as { ok: boolean; stream?: { kind: string } };
    expect(joined.ok, JSON.stringify(joined)).to.equal(true);
    expect(joined.stream?.kind).to.equal('server');
    const frames: Buffer[] = [];
    v.on('stream:data', (f) => frames.push(f.data as Buffer));
    await until(() => frames.length >= 5, 20_000, '5 frames from the worker');
    for (const f of frames) {
      expect(Buffer.isBuffer(f)).to.equal(true);
      expect([f[0], f[1]]).to.deep.equal([0xff, 0xd8]); // JPEG
    }
    const ended = once(v, 'stream:ended', 20_000);
    await request(s.url).post('/stream/stop').send({ streamKey: key }).expect(200);
    expect((await ended).streamKey).to.equal(key);
  });
});
