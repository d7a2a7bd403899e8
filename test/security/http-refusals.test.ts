// Each bad request gets its 4xx, nothing changes in Redis or PostgreSQL, and the service goes
// on serving: Content-Type and Content-Encoding, foreign Origins, undecodable or out-of-range
// parameters, voter ids without the token, bodies that are not JSON.
import zlib from 'node:zlib';
import { expect } from 'chai';
import request from 'supertest';
import { startSecStack, type SecStack } from './harness.js';

type Endpoint = { method: 'post' | 'delete'; path: string; body: string };

const ENDPOINTS: Endpoint[] = [
  { method: 'post', path: '/stream/start', body: '{"fps":15}' },
  { method: 'post', path: '/stream/stop', body: '{}' },
  { method: 'post', path: '/api/stream', body: '{"screenId":"testcard","streamKey":"sec-x"}' },
  { method: 'delete', path: '/api/stream?streamKey=sec-x', body: '{}' },
  { method: 'post', path: '/api/poll/generate', body: '{}' },
  { method: 'post', path: '/api/vote', body: '{"option":"A"}' },
];

const NOT_JSON_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'text/html',
  'application/xml',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset=iso-8859-1',
  'text/json',
  'application/jsonx',
  'image/png',
];

const FOREIGN_ORIGINS = [
  'http://evil.example',
  'https://evil.example',
  'null',
  'file://',
  'http://127.0.0.1:1',
  'http://localhost',
  'https://127.0.0.1.evil.example',
  'chrome-extension://abcdef',
  'http://[::1]:1',
];

describe('security: refused requests change nothing', function () {
  this.timeout(120_000);
  let s: SecStack;
  let baseline: string;

  const send = (e: Endpoint) => request(s.url)[e.method](e.path);

  /** The answer was `status`, nothing changed, and a good request is still served. */
  async function refused(res: request.Response, status: number | number[]) {
    const want = Array.isArray(status) ? status : [status];
    expect(want, `${res.status} ${JSON.stringify(res.body)}`).to.include(res.status);
    expect(res.headers['content-type']).to.match(/^application\/json/);
    expect(res.body.error).to.be.a('string');
    expect(await s.snapshot()).to.equal(baseline);
    const ok = await request(s.url).get('/api/poll');
    expect(ok.status).to.equal(200);
  }

  before(async () => {
    s = await startSecStack();
    baseline = await s.snapshot();
    expect(baseline).to.match(/sf:poll:current/);
  });
  after(async () => s?.close());

  for (const e of ENDPOINTS) {
    for (const type of NOT_JSON_TYPES) {
      it(`415: ${e.method.toUpperCase()} ${e.path} with Content-Type ${type}`, async () => {
        await refused(await send(e).set('content-type', type).send(e.body), 415);
      });
    }
    for (const origin of FOREIGN_ORIGINS) {
      it(`403: ${e.method.toUpperCase()} ${e.path} from Origin ${origin}`, async () => {
        await refused(await send(e).set('origin', origin).set('content-type', 'application/json').send(e.body), 403);
      });
    }
    it(`403: ${e.method.toUpperCase()} ${e.path} marked cross-site by the browser without an Origin`, async () => {
      await refused(await send(e).set('sec-fetch-site', 'cross-site').set('content-type', 'application/json').send(e.body), 403);
    });
    for (const [encoding, body] of [
      ['gzip', e.body],
      ['deflate', e.body],
      ['br', e.body],
      ['gzip', zlib.gzipSync('{"option":').toString('latin1')],
    ] as const) {
      it(`400: ${e.method.toUpperCase()} ${e.path} with Content-Encoding ${encoding} and a body that does not decode`, async () => {
        const buf = Buffer.from(body, 'latin1');
        await refused(await send(e).set('content-type', 'application/json').set('content-encoding', encoding).send(buf), [400, 415]);
      });
    }
    for (const encoding of ['compress', 'x-custom', 'identity, gzip']) {
      it(`415: ${e.method.toUpperCase()} ${e.path} with Content-Encoding ${encoding}`, async () => {
        await refused(await send(e).set('content-type', 'application/json').set('content-encoding', encoding).send(e.body), 415);
      });
    }
    for (const body of ['{"option": "A",', '{', 'nul', '"just a string', '{"a":1}}', '\u0000']) {
      it(`400: ${e.method.toUpperCase()} ${e.path} with the JSON ${JSON.stringify(body)}`, async () => {
        await refused(await send(e).set('content-type', 'application/json').send(body), 400);
      });
    }
  }

  const paths: [string, number | number[]][] = [
    ['/api/polls/%zz', 400],
    ['/api/polls/%', 400],
    ['/api/polls/%E0%A4%A', 400],
    ['/api/polls/9999999999', [400, 404]],
    ['/api/polls/2147483648', [400, 404]],
    ['/api/polls/99999999999999999999', [400, 404]],
    ['/api/polls/0', 400],
    ['/api/polls/-1', 400],
    ['/api/polls/1e3', 400],
    ['/api/polls/0x10', 400],
    ['/api/polls/abc', 400],
    ['/api/polls/1.5', 400],
    ['/api/polls/2147483647', 404],
    ['/stream/status?streamKey=../etc', 400],
    ['/stream/status?streamKey=%zz', 400],
    ['/stream/status?streamKey=a&streamKey=b', 400],
    ['/stream/status?evil=1', 400],
    ['/stream/feed?streamKey=a%20b', 400],
    ['/api/nothing-here', 404],
    ['/%zz', [400, 404]],
  ];
  for (const [path, status] of paths) {
    it(`${Array.isArray(status) ? status.join('/') : status}: GET ${path}`, async () => {
      await refused(await request(s.url).get(path), status);
    });
  }

  for (const voterId of ['viewer-42', 'a', 'x'.repeat(128), 'twitch:1234', 'a.b@c', 'bot-0', 'bot-1', 'bot-2', 'bot-3', 'bot-4']) {
    it(`403: a voterId (${voterId.slice(0, 20)}) without the token is not honoured`, async () => {
      const res = await request(s.url).post('/api/vote').send({ option: 'A', voterId });
      await refused(res, 403);
      expect(res.body.message).to.match(/bearer token/);
    });
  }

  it('still counts the plain vote of a new voter once, and only once for its cookie', async () => {
    const agent = request.agent(s.url);
    let res = await agent.post('/api/vote').send({ option: 'A' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(String(res.headers['set-cookie'])).to.match(/sf_voter=[\w-]+\.[\w-]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax/);
    res = await agent.post('/api/vote').send({ option: 'B' });
    expect(res.status).to.equal(409);
    expect((await request(s.url).get('/api/poll')).body.total).to.equal(1);
  });

  it('sends security headers: nosniff, a CSP without inline code, no framing except overlays', async () => {
    const page = await request(s.url).get('/');
    expect(page.headers['x-content-type-options']).to.equal('nosniff');
    expect(page.headers['content-security-policy']).to.include("script-src 'self'").and.include("frame-ancestors 'none'").and.not.include('unsafe-inline');
    expect(page.headers['x-frame-options']).to.equal('DENY');
    for (const overlay of ['/vote.html', '/viewer.html', '/vote']) {
      const res = await request(s.url).get(overlay);
      expect(res.headers['content-security-policy'], overlay).to.include('frame-ancestors *');
      expect(res.headers['x-frame-options'], overlay).to.equal(undefined);
    }
    expect((await request(s.url).get('/api/poll')).headers['x-content-type-options']).to.equal('nosniff');
  });
});
