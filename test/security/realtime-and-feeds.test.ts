// socket.io: foreign Origins refused at the handshake, STREAMER registration behind the token,
// printable usernames. SSE: past the cap new feeds get 503 (per address 429) while the open
// ones keep flowing, and the log says so once.
import { expect } from 'chai';
import request from 'supertest';
import { io as connect, type Socket } from 'socket.io-client';
import { openSse, type SseClient } from '../../scripts/lib/sse-client.js';
import { WorkerRuntime } from '../../src/jobs/runtime.js';
import { startSecStack, captureLog, type SecStack } from './harness.js';
import { uniqueKey, waitFor } from '../helpers/env.js';

const TOKEN = 'sec-test-token-0123';

function open(url: string, extra: Record<string, unknown> = {}): Promise<{ sock: Socket; result: string }> {
  const sock = connect(url, { transports: ['websocket'], forceNew: true, reconnection: false, ...extra });
  return new Promise((resolve) => {
    sock.once('connect', () => resolve({ sock, result: 'connected' }));
    sock.once('connect_error', (err) => resolve({ sock, result: `refused: ${err.message}` }));
  });
}

describe('security: socket.io', function () {
  this.timeout(60_000);
  let s: SecStack;
  before(async () => {
    s = await startSecStack({ API_TOKEN: TOKEN, ALLOWED_ORIGINS: 'https://overlay.example.com' });
  });
  after(async () => s?.close());

  for (const origin of ['http://evil.example', 'null', 'http://127.0.0.1:1', 'https://overlay.example.com.evil', 'file://']) {
    it(`refuses a handshake from Origin ${origin} (websocket and polling)`, async () => {
      for (const transports of [['websocket'], ['polling']]) {
        const { sock, result } = await open(s.url, { transports, extraHeaders: { origin } });
        sock.disconnect();
        expect(result, `${transports}`).to.match(/^refused/);
      }
    });
  }
  for (const origin of [undefined, 'https://overlay.example.com', 'OWN']) {
    it(`accepts a handshake from ${origin ?? 'no Origin (not a browser)'}`, async () => {
      const headers = origin ? { origin: origin === 'OWN' ? s.url : origin } : {};
      const { sock, result } = await open(s.url, { extraHeaders: headers });
      sock.disconnect();
      expect(result).to.equal('connected');
    });
  }

  it('lets only a token holder register as a STREAMER (viewers need none)', async () => {
    const anon = (await open(s.url)).sock;
    let res = (await anon.emitWithAck('user:register', { username: 'mallory', role: 'STREAMER' })) as { ok: boolean; error?: { code: string } };
    expect(res).to.deep.include({ ok: false });
    expect(res.error!.code).to.equal('unauthorized');
    res = (await anon.emitWithAck('user:register', { username: 'viewer', role: 'VIEWER' })) as { ok: boolean };
    expect(res.ok).to.equal(true);
    anon.disconnect();
    for (const auth of [{ token: 'wrong-token-0000000' }, { token: '' }]) {
      const sock = (await open(s.url, { auth })).sock;
      const r = (await sock.emitWithAck('user:register', { username: 'x', role: 'STREAMER' })) as { ok: boolean; error?: { code: string } };
      expect(r.error?.code).to.equal('unauthorized');
      sock.disconnect();
    }
    const owner = (await open(s.url, { auth: { token: TOKEN } })).sock;
    res = (await owner.emitWithAck('user:register', { username: 'studio', role: 'STREAMER' })) as { ok: boolean };
    expect(res.ok).to.equal(true);
    owner.disconnect();
    expect(await s.redis.hlen('sf:rt:streams')).to.be.at.most(1);
  });

  const names: [string, string][] = [
    ['a newline', 'bob\n2026-01-01 info [APP] forged'],
    ['a carriage return', 'bob\rx'],
    ['a NUL', 'bob\u0000'],
    ['an ANSI escape', '\u001b[31mred'],
    ['a tab', 'a\tb'],
    ['a line separator', 'a\u2028b'],
    ['a right-to-left override', 'abc\u202egpj.exe'],
    ['a DEL', 'a\u007fb'],
    ['41 characters', 'x'.repeat(41)],
    ['only spaces', '   '],
  ];
  for (const [label, username] of names) {
    it(`refuses a username with ${label}`, async () => {
      const sock = (await open(s.url)).sock;
      const r = (await sock.emitWithAck('user:register', { username, role: 'VIEWER' })) as { ok: boolean; error?: { code: string } };
      sock.disconnect();
      expect(r.error?.code).to.equal('invalid_payload');
    });
  }
  it('accepts printable usernames in any script', async () => {
    for (const username of ['Chun-Li', 'José', '春麗', 'Ryu 🥋', 'ザンギエフ']) {
      const sock = (await open(s.url)).sock;
      const r = (await sock.emitWithAck('user:register', { username, role: 'VIEWER' })) as { ok: boolean };
      sock.disconnect();
      expect(r.ok, username).to.equal(true);
    }
  });
});

describe('security: SSE feed caps', function () {
  this.timeout(90_000);
  let s: SecStack;
  let worker: WorkerRuntime;
  const key = uniqueKey('secsse');
  const feeds: SseClient[] = [];
  const feedUrl = () => `${s.url}/stream/feed?streamKey=${key}`;

  before(async () => {
    s = await startSecStack({ TRUST_PROXY: 'loopback', LIMIT_SSE_TOTAL: '4', LIMIT_SSE_PER_ADDRESS: '2' });
    worker = new WorkerRuntime(s.config, s.conns);
    await worker.start();
    await request(s.url).post('/api/stream').send({ streamKey: key, screenId: 'testcard', fps: 10, quality: 50 }).expect(201);
    await waitFor(async () => (await s.redis.hget(`streaming:state:${key}`, 'health')) === 'live', 20_000, 100, 'stream live');
  });
  after(async () => {
    for (const f of feeds) f.close();
    await request(s.url).delete(`/api/stream?streamKey=${key}`);
    await worker?.close();
    await s?.close();
  });

  it('refuses a third feed from one address (429), then past the total cap answers 503 while open feeds keep flowing, said once', async () => {
    feeds.push(await openSse(feedUrl(), { 'x-forwarded-for': '10.9.0.1' }), await openSse(feedUrl(), { 'x-forwarded-for': '10.9.0.1' }));
    const third = await request(s.url).get(`/stream/feed?streamKey=${key}`).set('x-forwarded-for', '10.9.0.1');
    expect(third.status).to.equal(429);
    expect(Number(third.headers['retry-after'])).to.be.greaterThan(0);
    feeds.push(await openSse(feedUrl(), { 'x-forwarded-for': '10.9.0.2' }), await openSse(feedUrl(), { 'x-forwarded-for': '10.9.0.3' }));
    for (const f of feeds) await f.next(1, 15_000);

    const log = captureLog();
    const refused: request.Response[] = [];
    try {
      for (let i = 0; i < 5; i++) refused.push(await request(s.url).get(`/stream/feed?streamKey=${key}`).set('x-forwarded-for', `10.9.1.${i}`));
    } finally {
      log.stop();
    }
    for (const r of refused) {
      expect(r.status).to.equal(503);
      expect(Number(r.headers['retry-after'])).to.be.greaterThan(0);
    }
    expect(log.lines.filter((l) => l.includes('SSE cap reached'))).to.have.length(1);
    // The open ones keep getting frames.
    const counts = feeds.map((f) => f.messages.length);
    await Promise.all(feeds.map((f, i) => f.next(counts[i] + 3, 15_000)));
    // A closed feed frees its place (and its address's).
    feeds.shift()!.close();
    await waitFor(async () => (await request(s.url).get('/api/health')).status > 0 && true, 2000);
    const again = await waitFor(async () => {
      const c = await openSse(feedUrl(), { 'x-forwarded-for': '10.9.0.4' });
      if (c.status === 200) return c;
      c.close();
      return null;
    }, 10_000, 200, 'a feed accepted after one closed');
    feeds.push(again);
    await again.next(1, 15_000);
  });
});
