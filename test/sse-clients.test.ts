// SSE fan-out as clients behave: a client that stops reading skips frames (bounded memory) while
// the others keep every frame; a client that leaves is dropped at once.
import net from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { startStack, type Stack } from './helpers/stack.js';
import { openSse } from '../scripts/lib/sse-client.js';
import { sleep, uniqueKey, waitFor } from './helpers/env.js';

describe('SSE feed clients', function () {
  this.timeout(30_000);
  let s: Stack;
  const key = uniqueKey('sse');

  before(async () => {
    // A large preview so that a client that stops reading fills its socket buffers quickly.
    s = await startStack({ env: { PREVIEW_WIDTH: '1280', PREVIEW_HEIGHT: '720' } });
    await request(s.url).post('/api/stream').send({ streamKey: key, screenId: 'testcard', fps: 20, quality: 100 }).expect(201);
    await waitFor(async () => (await s.redis.hget(`streaming:state:${key}`, 'health')) === 'live', 8000);
  });
  after(async () => {
    await request(s.url).delete(`/api/stream?streamKey=${key}`);
    await s?.close();
  });

  it('lets a client that stops reading skip frames, with at most about one frame queued for it, while others get them all', async () => {
    const slow = net.connect(s.web.port, '127.0.0.1');
    slow.setNoDelay(true);
    slow.write(`GET /stream/feed?streamKey=${key} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
    slow.pause(); // never reads: the kernel buffers fill, then Node's
    const fast = await openSse(`${s.url}/stream/feed?streamKey=${key}`);
    await fast.next(1, 5000);
    const start = fast.messages.length;
    await sleep(5000);
    const got = fast.messages.length - start;
    expect(got).to.be.within(80, 110); // 20 fps for 5 s

    const clients = s.web.feed.clientStats(key);
    expect(clients).to.have.length(2);
    const lagging = clients.find((c) => c.skipped > 0);
    expect(lagging, JSON.stringify(clients)).to.not.equal(undefined);
    // What the server holds for it stays bounded: about one encoded frame (~100-300 KB at 720p q100).
    expect(lagging!.queuedBytes).to.be.lessThan(600_000);
    const keeping = clients.find((c) => c !== lagging)!;
    expect(keeping.skipped).to.equal(0);

    slow.destroy();
    fast.close();
    await waitFor(() => s.web.feed.clientStats(key).length === 0, 2000, 10, 'both clients dropped');
  });

  it('drops a client from the fan-out as soon as it disconnects', async () => {
    const a = await openSse(`${s.url}/stream/feed?streamKey=${key}`);
    await a.next(1, 5000);
    expect(s.web.feed.clientStats(key)).to.have.length(1);
    const t = Date.now();
    a.close();
    await waitFor(() => s.web.feed.clientStats(key).length === 0, 2000, 5, 'client dropped');
    expect(Date.now() - t).to.be.lessThan(500);
    expect(s.web.feed.stats().streams).to.equal(0);
  });
});
