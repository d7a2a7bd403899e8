// SSE fan-out as clients behave: a client that stops reading skips frames (bounded memory) while
// the others keep every frame; a client that leaves is dropped at once.
import net from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { startStack, type Stack } from './helpers/stack.js';
import { openSse } from '../scripts/lib/sse-client.js';
import { uniqueKey, waitFor } from './helpers/env.js';

describe('SSE feed clients', function () {
  this.timeout(60_000);
  let s: Stack;
  const key = uniqueKey('sse');

  before(async () => {
    // A large preview so that a client that stops reading fills its socket buffers quickly.
    s = await startStack({ env: { PREVIEW_WIDTH: '1280', PREVIEW_HEIGHT: '720' } });
    await request(s.url).post('/api/stream').send({ streamKey: key, screenId: 'testcard', fps: 20, quality: 100 }).expect(201);
    await waitFor(async () => (await s.redis.hget(`streaming:state:${key}`, 'health')) === 'live', 20_000);
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
    await fast.next(1, 10_000);
    // Conditions, not a count in a fixed window: the slow client falls behind and skips while
    // the fast one goes on receiving (how fast is bench/sse-fanout's business).
    const lagging = await waitFor(() => s.web.feed.clientStats(key).find((c) => c.skipped > 0), 20_000, 50, 'the slow client to skip frames');
    const start = fast.messages.length;
    await fast.next(start + 40, 20_000);

    const clients = s.web.feed.clientStats(key);
    expect(clients, JSON.stringify(lagging)).to.have.length(2);
    // What the server holds for it stays bounded: about one encoded frame (~100-300 KB at 720p q100).
    for (const c of clients) expect(c.queuedBytes, JSON.stringify(clients)).to.be.lessThan(600_000);
    const keeping = clients.find((c) => c.skipped === 0);
    expect(keeping, JSON.stringify(clients)).to.not.equal(undefined);
    expect(keeping!.sent).to.be.at.least(40);

    slow.destroy();
    fast.close();
    await waitFor(() => s.web.feed.clientStats(key).length === 0, 5000, 10, 'both clients dropped');
  });

  it('drops a client from the fan-out as soon as it disconnects', async () => {
    const a = await openSse(`${s.url}/stream/feed?streamKey=${key}`);
    await a.next(1, 10_000);
    expect(s.web.feed.clientStats(key)).to.have.length(1);
    a.close();
    // Dropped on the socket's close event, not by a later sweep (which would take seconds).
    await waitFor(() => s.web.feed.clientStats(key).length === 0, 3000, 5, 'client dropped');
    expect(s.web.feed.stats().streams).to.equal(0);
  });
});
