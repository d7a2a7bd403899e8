// GET /api/sessions and /api/sessions/:id against the real PostgreSQL: newest first, paged,
// filtered by stream, 404 for an unknown id, 400 for bad parameters; stream keys redacted.
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../src/app.js';
import { migrate, SessionRepository } from '../src/db/index.js';
import { redactKey } from '../src/logger.js';
import { sessionsRouter } from '../src/routes/sessions.js';
import { DATABASE_KINDS, type TestDatabase } from './helpers/databases.js';

describe('sessions API', () => {
  let t: TestDatabase;
  let app: express.Express;
  const ids: number[] = [];

  before(async () => {
    t = await DATABASE_KINDS[0].open();
    await migrate(t.db.pool);
    const repo = new SessionRepository(t.db.pool);
    // 5 sessions of stream-alpha, 2 of stream-beta (the 3rd and 6th), one minute apart (the last one still running).
    const base = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < 7; i++) {
      const streamKey = i % 3 === 2 ? 'stream-beta' : 'stream-alpha';
      const id = await repo.recordSessionStart({ streamKey, screenId: 'testcard', taskId: `task-${i}`, startedAt: new Date(base + i * 60_000) });
      if (i < 6) await repo.recordSessionEnd(id, { stopReason: 'requested', frames: 100 * i, dropped: i, restarts: 0, stoppedAt: new Date(base + i * 60_000 + 30_000) });
      ids.push(id);
    }
    app = createApp([sessionsRouter({ pool: t.db.pool })]);
  });
  after(async () => t?.cleanup());

  it('lists sessions newest first with paging', async () => {
    const p1 = (await request(app).get('/api/sessions?limit=3').expect(200)).body;
    expect(p1.total).to.equal(7);
    expect(p1.sessions.map((s: { id: number }) => s.id)).to.deep.equal([ids[6], ids[5], ids[4]]);
    expect(p1).to.include({ limit: 3, offset: 0, nextOffset: 3 });
    const last = (await request(app).get('/api/sessions?limit=3&offset=6').expect(200)).body;
    expect(last.sessions.map((s: { id: number }) => s.id)).to.deep.equal([ids[0]]);
    expect(last.nextOffset).to.equal(null);
    expect(p1.sessions[0]).to.include({ stoppedAt: null, durationSeconds: null, taskId: 'task-6' });
    expect(p1.sessions[1]).to.include({ durationSeconds: 30, stopReason: 'requested', frames: 500, dropped: 5 });
  });

  it('filters by stream and answers the key redacted', async () => {
    const r = (await request(app).get('/api/sessions?streamKey=stream-beta').expect(200)).body;
    expect(r.total).to.equal(2);
    expect(r.sessions.map((s: { stream: string }) => s.stream)).to.deep.equal([redactKey('stream-beta'), redactKey('stream-beta')]);
    expect(JSON.stringify(r)).to.not.include('stream-beta');
    expect((await request(app).get('/api/sessions?streamKey=nobody').expect(200)).body).to.include({ total: 0, nextOffset: null });
  });

  it('answers one session, 404 for an unknown id', async () => {
    const one = (await request(app).get(`/api/sessions/${ids[2]}`).expect(200)).body;
    expect(one).to.include({ id: ids[2], screenId: 'testcard', frames: 200, startedAt: '2026-01-01T00:02:00.000Z', stoppedAt: '2026-01-01T00:02:30.000Z' });
    const nf = (await request(app).get('/api/sessions/999999999').expect(404)).body;
    expect(nf.error).to.equal('not_found');
  });

  it('answers 400 naming the field for bad parameters', async () => {
    for (const [q, field] of [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=abc', 'limit'],
      ['offset=-1', 'offset'],
      ['streamKey=bad%20key', 'streamKey'],
      ['sort=asc', '(body)'],
    ] as const) {
      const r = (await request(app).get(`/api/sessions?${q}`).expect(400)).body;
      expect(r.error, q).to.equal('validation_error');
      expect(JSON.stringify(r.details), q).to.include(field === '(body)' ? 'sort' : field);
    }
    expect((await request(app).get('/api/sessions/abc').expect(400)).body.details[0].field).to.equal('id');
    expect((await request(app).get('/api/sessions/0').expect(400)).body.error).to.equal('validation_error');
  });
});
