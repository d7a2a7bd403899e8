// The OpenAPI contract against the running web role: every route Express serves is in the
// document (and every documented route is served), and real answers of every endpoint match
// the document's response schema for their status (checked with zod from the served JSON Schema).
import { expect } from 'chai';
import request from 'supertest';
import { z } from 'zod';
import { connectRedis, runWeb, type WebRole } from '../src/roles.js';
import type { RedisConnections } from '../src/redis/index.js';
import { WorkerRuntime } from '../src/jobs/runtime.js';
import { SessionRepository } from '../src/db/index.js';
import type { Database } from '../src/db/index.js';
import { ROUTES, openApiPath } from '../src/api-docs/routes.js';
import { DATABASE_KINDS, type TestDatabase } from './helpers/databases.js';
import { testConfig, uniqueKey, waitFor } from './helpers/env.js';
import { expressRoutes } from './helpers/express-routes.js';
import { promtool, sample } from './helpers/metrics.js';

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema?: object }> }> }>> };

describe('OpenAPI contract (/api/openapi.json)', function () {
  this.timeout(90_000);
  let t: TestDatabase;
  let db: Database;
  let web: WebRole;
  let worker: WorkerRuntime;
  let conns: RedisConnections;
  let url: string;
  let doc: Doc;
  const checked = new Set<string>();

  /** The documented schema of `method path` for `status`, as zod from the served JSON Schema. */
  function documented(method: string, template: string, status: number, contentType: string) {
    const op = doc.paths[template]?.[method];
    expect(op, `${method.toUpperCase()} ${template} is in the document`).to.not.equal(undefined);
    const res = op.responses[String(status)];
    expect(res, `${method.toUpperCase()} ${template} documents status ${status}`).to.not.equal(undefined);
    const type = contentType.split(';')[0];
    expect(Object.keys(res.content), `${method.toUpperCase()} ${template} ${status} content type`).to.include(type);
    const schema = res.content[type].schema;
    return schema ? z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]) : null;
  }

  /** Calls an endpoint and checks its answer against the document. */
  async function call(method: 'get' | 'post' | 'delete', template: string, opts: { path?: string; body?: object; status: number; cookie?: string }) {
    const req = request(url)[method](opts.path ?? template);
    if (opts.cookie) req.set('Cookie', opts.cookie);
    const res = await (opts.body ? req.send(opts.body) : req);
    expect(res.status, `${method.toUpperCase()} ${opts.path ?? template}: ${JSON.stringify(res.body)}`).to.equal(opts.status);
    const schema = documented(method, openApiPath(template), res.status, String(res.headers['content-type'] ?? 'application/json'));
    if (schema) {
      const r = schema.safeParse(res.body);
      expect(r.success, `${method.toUpperCase()} ${opts.path ?? template} ${res.status} matches the document: ${r.error?.message}\n${JSON.stringify(res.body)}`).to.equal(true);
    }
    checked.add(`${method} ${template}`);
    return res;
  }

  before(async () => {
    t = await DATABASE_KINDS[0].open();
    db = t.db;
    const config = testConfig();
    const { migrate } = await import('../src/db/index.js');
    await migrate(db.pool);
    conns = await connectRedis(config, 'openapi-test');
    web = await runWeb(config, db, conns);
    worker = new WorkerRuntime(config, conns, { sessions: { start: (s) => new SessionRepository(db.pool).recordSessionStart(s), end: async (id, s) => void (await new SessionRepository(db.pool).recordSessionEnd(id, s)) } });
    await worker.start();
    url = `http://127.0.0.1:${web.web.port}`;
    doc = (await request(url).get('/api/openapi.json').expect(200)).body;
  });
  after(async () => {
    await worker?.close();
    await web?.close();
    await conns?.close();
    await t?.cleanup();
  });

  it('is OpenAPI 3.1 and documents every route Express serves, and nothing it does not', () => {
    expect(doc.openapi).to.equal('3.1.0');
    const served = expressRoutes(web.web.app).map((r) => `${r.method} ${openApiPath(r.path)}`);
    const inDoc = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(served.filter((r) => !inDoc.includes(r)), 'routes missing from the document').to.deep.equal([]);
    expect(inDoc.filter((r) => !served.includes(r)), 'documented routes nobody serves').to.deep.equal([]);
  });

  it('answers every endpoint as documented', async () => {
    // Counters are process-wide (other suites in this mocha run vote too): compare before and after.
    const votesBefore = await request(url).get('/metrics').then((r) => r.text);
    const a = uniqueKey('oa-a');
    const b = uniqueKey('oa-b');
    await call('get', '/stream/status', { status: 200 });
    await call('post', '/stream/start', { body: { fps: 99 }, status: 400 });
    await call('post', '/stream/start', { body: { streamKey: a, screenId: 'testcard', fps: 10 }, status: 200 });
    await call('post', '/stream/start', { body: { streamKey: a, screenId: 'testcard' }, status: 409 });
    await call('get', '/stream/status', { path: `/stream/status?streamKey=${a}`, status: 200 });
    await waitFor(async () => (await request(url).get(`/stream/status?streamKey=${a}`)).body.health === 'live', 20_000, 100, 'live');
    await call('get', '/api/stream', { status: 200 });
    await call('get', '/api/stream/:streamKey', { path: `/api/stream/${a}`, status: 200 });
    await call('get', '/api/stream/:streamKey', { path: `/api/stream/${uniqueKey('oa-none')}`, status: 404 });
    // No RTMP here (previews only): a destination cannot be added, and a removal finds none.
    await call('post', '/api/stream/:streamKey/destinations', { path: `/api/stream/${a}/destinations`, body: { url: 'rtmp://127.0.0.1:1/live/x' }, status: 409 });
    await call('post', '/api/stream/:streamKey/destinations', { path: `/api/stream/${a}/destinations`, body: { url: 'http://nope' }, status: 400 });
    await call('delete', '/api/stream/:streamKey/destinations/:id', { path: `/api/stream/${a}/destinations/d-none`, status: 404 });
    await call('get', '/hls/:streamKey/:file', { path: `/hls/${a}/index.m3u8`, status: 404 });
    await waitFor(async () => (await request(url).get('/api/stats')).body.streams.some((s: { frames: number }) => s.frames > 0), 10_000, 200, 'stats');
    await call('get', '/api/stats', { status: 200 });
    await call('post', '/stream/stop', { body: { streamKey: a }, status: 200 });
    await waitFor(async () => !(await request(url).get(`/stream/status?streamKey=${a}`)).body.active, 20_000, 100, 'stopped');
    await call('post', '/stream/stop', { body: { streamKey: a }, status: 409 });
    await call('get', '/stream/feed', { path: `/stream/feed?streamKey=${a}`, status: 200 });
    await call('post', '/api/stream', { body: { streamKey: b, screenId: 'testcard' }, status: 201 });
    await call('post', '/api/stream', { body: { streamKey: uniqueKey('oa-c'), screenId: 'no-such-screen' }, status: 400 });
    await call('delete', '/api/stream', { path: `/api/stream?streamKey=${b}`, status: 200 });
    await call('delete', '/api/stream', { path: '/api/stream', status: 400 });

    const poll = (await call('get', '/api/poll', { status: 200 })).body;
    // A browser: the first vote is given a signed voter cookie; the same cookie again is a repeat.
    const first = await call('post', '/api/vote', { body: { option: poll.options[0].key }, status: 200 });
    const cookie = String(first.headers['set-cookie']?.[0] ?? '').split(';')[0];
    await call('post', '/api/vote', { body: { option: poll.options[0].key }, cookie, status: 409 });
    await call('post', '/api/vote', { body: { option: 'nope' }, status: 400 });
    const gen = (await call('post', '/api/poll/generate', { body: {}, status: 201 })).body;
    await call('get', '/api/polls/:id', { path: `/api/polls/${gen.closed.id}`, status: 200 });
    await call('get', '/api/polls/:id', { path: '/api/polls/99999999', status: 404 });
    await call('get', '/api/polls/:id', { path: '/api/polls/x', status: 400 });
    await call('get', '/api/polls', { path: '/api/polls?limit=2', status: 200 });
    await call('get', '/api/polls', { path: '/api/polls?limit=0', status: 400 });
    const queued = (await call('post', '/api/polls/queue', { body: { question: 'Queued in the contract test?', options: ['Yes', 'No'] }, status: 201 })).body;
    await call('post', '/api/polls/queue', { body: { question: 'One option?', options: ['Only'] }, status: 400 });
    await call('get', '/api/polls/queue', { status: 200 });
    await call('delete', '/api/polls/queue/:id', { path: `/api/polls/queue/${queued.id}`, status: 200 });
    await call('delete', '/api/polls/queue/:id', { path: `/api/polls/queue/${queued.id}`, status: 404 });
    await call('post', '/api/poll/close', { body: {}, status: 200 });
    await call('post', '/api/poll/close', { body: {}, status: 409 });

    await waitFor(async () => (await request(url).get('/api/sessions')).body.sessions?.[0]?.stoppedAt, 10_000, 100, 'a closed session');
    const sessions = (await call('get', '/api/sessions', { path: `/api/sessions?streamKey=${a}&limit=5`, status: 200 })).body;
    await call('get', '/api/sessions', { path: '/api/sessions?limit=0', status: 400 });
    await call('get', '/api/sessions/:id', { path: `/api/sessions/${sessions.sessions[0].id}`, status: 200 });
    await call('get', '/api/sessions/:id', { path: '/api/sessions/99999999', status: 404 });
    await call('get', '/api/sessions/:id', { path: '/api/sessions/x', status: 400 });

    await call('get', '/api/health', { status: 200 });
    await call('get', '/api/chat', { status: 200 });
    await call('get', '/health', { status: 200 });
    const metrics = await call('get', '/metrics', { status: 200 });
    await call('get', '/api/openapi.json', { status: 200 });
    await call('get', '/api/docs', { status: 200 });

    // The web role's whole exposition (votes, queues, viewers) passes promtool too.
    for (const result of ['accepted', 'duplicate', 'invalid']) {
      expect(sample(metrics.text, 'sf_votes_total', { result }), result).to.equal((sample(votesBefore, 'sf_votes_total', { result }) ?? 0) + 1);
    }
    expect(promtool(metrics.text)).to.deep.equal({ status: 0, output: '' });

    // Every documented route was called: a new route needs a call here too.
    expect(ROUTES.map((r) => `${r.method} ${r.path}`).filter((r) => !checked.has(r)), 'routes not exercised').to.deep.equal([]);
  });
});
