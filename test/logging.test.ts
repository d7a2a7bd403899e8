// Logs an operator can query: JSON lines with fields in production, one readable line in
// development, the stream key always redacted; one access line per HTTP request, pollers left out.
import { Writable } from 'node:stream';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import winston from 'winston';
import { createApp } from '../src/app.js';
import { log, logFormat, rootLogger, useJsonLogs } from '../src/logger.js';

const MESSAGE = Symbol.for('message');
const LEVEL = Symbol.for('level');

function render(json: boolean, info: Record<string, unknown>): string {
  const out = logFormat(json).transform({ level: 'info', [LEVEL]: 'info', ...info } as unknown as winston.Logform.TransformableInfo);
  return (out as Record<symbol, string>)[MESSAGE];
}

/** Captures the root logger's lines at `level` while `fn` runs. */
async function capture(level: string, fn: () => Promise<void>): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new winston.transports.Stream({
    stream: new Writable({ objectMode: true, write: (chunk, _enc, cb) => (lines.push(chunk), cb()) }),
    format: winston.format.combine(logFormat(true)),
  });
  const root = rootLogger();
  const before = root.level;
  const consoles = root.transports.filter((t) => t instanceof winston.transports.Console);
  consoles.forEach((t) => (t.silent = true));
  root.level = level;
  root.add(sink);
  try {
    await fn();
  } finally {
    root.remove(sink);
    root.level = before;
    consoles.forEach((t) => (t.silent = false));
  }
  return lines.map((l) => JSON.parse((l as Record<symbol, string>)[MESSAGE]));
}

describe('logging', () => {
  it('writes JSON lines with category, redacted stream, taskId, workerId, durationMs in production', () => {
    const line = JSON.parse(render(true, { message: 'stopped', category: 'STREAMING-TASK', stream: 'my-secret-key', taskId: 't-1', workerId: 'w-1', durationMs: 1234.567 }));
    expect(line).to.include({ level: 'info', message: 'stopped', category: 'STREAMING-TASK', stream: 'my-s…(13)', taskId: 't-1', workerId: 'w-1', durationMs: 1234.6 });
    expect(line.timestamp).to.be.a('string');
    expect(useJsonLogs({ NODE_ENV: 'production' })).to.equal(true);
    expect(useJsonLogs({ NODE_ENV: 'development' })).to.equal(false);
    expect(useJsonLogs({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' })).to.equal(false);
  });

  it('keeps one readable line in development, with the fields after the message', () => {
    const line = render(false, { message: 'stopped', category: 'STREAMING-TASK', stream: 'my-secret-key', taskId: 't-1', durationMs: 5 });
    expect(line).to.match(/^\S+ info \[STREAMING-TASK\] stopped stream=my-s…\(13\) taskId=t-1 durationMs=5$/);
    expect(line).to.not.include('my-secret-key');
  });

  it('passes fields from a call through the category logger', async () => {
    const lines = await capture('info', async () => log('POLL').info('hello', { stream: 'abcdefgh', taskId: 'x' }));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ category: 'POLL', message: 'hello', stream: 'abcd…(8)', taskId: 'x' });
  });

  it('logs one access line per request with method, route pattern, status, duration; not health or metrics polls', async () => {
    const r = express.Router();
    r.get('/api/things/:id', (req, res) => void res.json({ id: req.params.id }));
    r.get('/api/health', (_req, res) => void res.json({ ok: true }));
    r.get('/health', (_req, res) => void res.json({ ok: true }));
    r.get('/metrics', (_req, res) => void res.send('x 1\n'));
    const app = createApp([r]);
    const lines = await capture('info', async () => {
      await request(app).get('/api/things/secret-id-1').expect(200);
      await request(app).get('/api/health').expect(200);
      await request(app).get('/health').expect(200);
      await request(app).get('/metrics').expect(200);
      await request(app).get('/api/nothing').expect(404);
      await request(app).post('/api/things/2').send({}).expect(404);
    });
    const access = lines.filter((l) => l.category === 'HTTP');
    expect(access.map((l) => [l.method, l.route, l.status])).to.deep.equal([
      ['GET', '/api/things/:id', 200],
      ['GET', '(no route)', 404],
      ['POST', '(no route)', 404],
    ]);
    expect(access[0].durationMs).to.be.a('number');
    // The route pattern, never the URL: ids and stream keys in paths stay out.
    expect(JSON.stringify(access)).to.not.include('secret-id-1');
  });
});
