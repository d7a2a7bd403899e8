// The SSE feed hub on its own, against the real Redis frame bus and a real HTTP server: a client
// that stops reading (stalled) is ended once however many times its stream ends, and nothing
// is written to it after that (a second end() was an uncaught ERR_STREAM_WRITE_AFTER_END).
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Response } from 'express';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { publishEvent, publishFrame } from '../src/streams/bus.js';
import { FeedHub } from '../src/streams/feed.js';
import { REDIS_URL, uniqueKey, waitFor } from './helpers/env.js';
import { Subscriber } from '../src/redis/index.js';

describe('streams/feed (FeedHub)', function () {
  this.timeout(30_000);
  let redis: Redis;
  let sub: Redis;
  let hub: FeedHub;
  let server: http.Server;
  let port: number;
  const errors: Error[] = [];
  const key = uniqueKey('feed');

  before(async () => {
    redis = new Redis(REDIS_URL);
    sub = new Redis(REDIS_URL);
    hub = new FeedHub(new Subscriber(sub), redis);
    server = http.createServer((req, res) => {
      res.on('error', (err) => errors.push(err));
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.flushHeaders();
      void hub.add(key, res as unknown as Response);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    // The hub checks the state hash every second: keep the stream active while we test.
    await redis.hset(keys.state(key), { active: 'true', task_id: 't' });
  });
  after(async () => {
    hub.close();
    server.closeAllConnections();
    server.close();
    await redis.del(keys.state(key));
    sub.disconnect();
    redis.disconnect();
  });
  beforeEach(() => {
    errors.length = 0;
  });
  afterEach(async () => {
    // Whatever a test left attached (with the old hub: ended but stalled clients) goes now.
    server.closeAllConnections();
    await waitFor(() => hub.stats().clients === 0, 5000, 10, 'no clients left');
    await redis.del(keys.lastFrame(key)); // a test's newest frame is not the next one's
  });

  /** A client that sends its request and then never reads: its socket buffers fill. */
  async function stalledClient(): Promise<net.Socket> {
    const s = net.connect(port, '127.0.0.1');
    s.write(`GET /feed HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
    s.pause();
    await waitFor(() => hub.clientStats(key).length === 1, 5000, 10, 'the client attached');
    // Big frames until the server holds bytes it cannot hand to the kernel.
    const jpeg = Buffer.alloc(2_000_000, 7);
    let seq = 0;
    await waitFor(
      async () => {
        await publishFrame(redis, key, { seq: ++seq, ts: Date.now(), jpeg });
        return (hub.clientStats(key)[0]?.queuedBytes ?? 0) > 0;
      },
      10_000,
      20,
      'the stalled client to have a write pending',
    );
    return s;
  }

  it('ends a stalled client once when its stream ends twice (event, then state check)', async () => {
    const s = await stalledClient();
    const ended = new Promise<void>((resolve) => {
      const off = hub.onEnded(() => {
        off();
        resolve();
      });
    });
    await publishEvent(redis, { type: 'ended', streamKey: key, taskId: 't', reason: 'stopped' });
    await ended;
    hub.endStream(key, 'state inactive');
    hub.endStream(key, 'server shutting down');
    await publishFrame(redis, key, { seq: 1, ts: Date.now(), jpeg: Buffer.from([1, 2, 3]) });
    await new Promise((r) => setTimeout(r, 200)); // an error would be emitted on a later tick
    expect(errors.map((e) => e.message)).to.deep.equal([]);
    expect(hub.clientStats(key)).to.deep.equal([]);
    s.destroy();
  });

  it('ends a client directly twice while a write is pending, without write-after-end', async () => {
    const s = await stalledClient();
    hub.endStream(key, 'first');
    hub.endStream(key, 'second');
    await new Promise((r) => setTimeout(r, 200));
    expect(errors.map((e) => e.message)).to.deep.equal([]);
    // Out of the fan-out at once, though its socket has not closed yet.
    expect(hub.clientStats(key)).to.deep.equal([]);
    expect(hub.stats()).to.deep.equal({ streams: 0, clients: 0 });
    s.destroy();
  });

  it('still sends stream_stopped to a client that reads', async () => {
    const got = new Promise<string>((resolve) => {
      http.get(`http://127.0.0.1:${port}/feed`, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      });
    });
    await waitFor(() => hub.clientStats(key).length === 1, 5000, 10, 'the client attached');
    await publishFrame(redis, key, { seq: 1, ts: Date.now(), jpeg: Buffer.from([0xff, 0xd8]) });
    await waitFor(() => hub.clientStats(key)[0]?.sent === 1, 5000, 10, 'one frame sent');
    hub.endStream(key, 'stopped');
    hub.endStream(key, 'stopped again');
    expect(await got).to.equal(`data: ${Buffer.from([0xff, 0xd8]).toString('base64')}\n\ndata: stream_stopped\n\n`);
  });

  it('a client that joins between two frames gets the newest at once, once, then the next ones', async () => {
    const frame = (n: number) => Buffer.from([0xff, 0xd8, n]);
    const sse = (n: number) => `data: ${frame(n).toString('base64')}\n\n`;
    const t0 = Date.now();
    await publishFrame(redis, key, { seq: 1, ts: t0, jpeg: frame(1) }); // nobody watches yet
    let body = '';
    const req = http.get(`http://127.0.0.1:${port}/feed`, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
    });
    await waitFor(() => body.length > 0, 5000, 10, 'the newest frame on joining');
    expect(body).to.equal(sse(1));
    // The bus's own copy of that frame (published again here) is not sent twice; a newer one is.
    await publishFrame(redis, key, { seq: 1, ts: t0, jpeg: frame(1) });
    await publishFrame(redis, key, { seq: 2, ts: t0 + 100, jpeg: frame(2) });
    await waitFor(() => body.length > sse(1).length, 5000, 10, 'the next frame');
    expect(body).to.equal(sse(1) + sse(2));
    expect(hub.clientStats(key)[0]?.sent).to.equal(2);
    req.destroy();
  });

  it('closing the hub (web shutting down) tells its viewers to reconnect, never stream_stopped', async () => {
    const ownSub = new Redis(REDIS_URL);
    const own = new FeedHub(new Subscriber(ownSub), redis);
    const srv = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.flushHeaders();
      void own.add(key, res as unknown as Response);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const got = new Promise<string>((resolve) => {
        http.get(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/`, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve(body));
        });
      });
      await waitFor(() => own.clientStats(key).length === 1, 5000, 10, 'the client attached');
      own.close();
      expect(await got).to.equal('retry: 1000\n\n');
    } finally {
      srv.closeAllConnections();
      srv.close();
      ownSub.disconnect();
    }
  });
});
