// The record of stream sessions (`stream_sessions`): GET /api/sessions (paged, newest first,
// optionally one stream's) and GET /api/sessions/:id. Open like the other reads, so the stream
// key is answered redacted; a caller that knows a key may filter by it.
import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { notFound } from '../errors.js';
import { redactKey } from '../logger.js';
import { SessionRepository, type SessionRow } from '../db/sessions.js';
import { streamKeySchema } from '../streams/schema.js';
import { parse } from './parse.js';

export const sessionsQuery = z.strictObject({
  streamKey: streamKeySchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const sessionIdParams = z.strictObject({
  id: z.string().regex(/^[1-9][0-9]{0,15}$/, 'session id must be a positive integer'),
});

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toSessionJson(r: SessionRow) {
  const started = new Date(r.startedAt);
  return {
    id: r.id,
    stream: redactKey(r.streamKey),
    screenId: r.screenId,
    taskId: r.taskId,
    startedAt: started.toISOString(),
    stoppedAt: iso(r.stoppedAt),
    durationSeconds: r.stoppedAt ? Math.round((new Date(r.stoppedAt).getTime() - started.getTime()) / 100) / 10 : null,
    stopReason: r.stopReason,
    frames: r.frames,
    dropped: r.dropped,
    restarts: r.restarts,
    lastError: r.lastError,
  };
}

export function sessionsRouter(d: { pool: pg.Pool }): Router {
  const r = Router();
  const repo = new SessionRepository(d.pool);

  r.get('/api/sessions', async (req, res) => {
    const q = parse(sessionsQuery, req.query);
    const { rows, total } = await repo.pageSessions(q);
    const next = q.offset + rows.length;
    res.json({ sessions: rows.map(toSessionJson), total, limit: q.limit, offset: q.offset, nextOffset: next < total ? next : null });
  });

  r.get('/api/sessions/:id', async (req, res) => {
    const { id } = parse(sessionIdParams, req.params);
    const row = await repo.getSession(Number(id));
    if (!row) throw notFound(`no session ${id}`);
    res.json(toSessionJson(row));
  });

  return r;
}
