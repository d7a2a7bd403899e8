// The poll show's management: history with winners, the queue of upcoming polls, and "close the
// current poll now" (its winner is revealed, then the next poll opens). Changes need the token.
// Mounted before routes/poll.ts, whose `/api/polls/:id` would otherwise see "queue" as an id.
import express from 'express';
import { z } from 'zod';
import { conflict, notFound, validation } from '../errors.js';
import { draftSchema } from '../polls/generator.js';
import type { PollService } from '../polls/service.js';
import { MAX_OPTIONS, MIN_OPTIONS } from '../polls/types.js';

const duration = z
  .number()
  .int()
  .refine((n) => n === 0 || (n >= 10 && n <= 7 * 24 * 3600), 'durationSeconds is 0 (until closed by hand) or 10 to 604800');

/** `GET /api/polls`: newest first; `?limit&before=<id>` (keyset) or `?limit&page=<n>` (1-based). */
export const pollListQuery = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    before: z.coerce.number().int().min(1).optional(),
    page: z.coerce.number().int().min(1).max(10_000).optional(),
  })
  .refine((q) => !(q.before && q.page), { message: 'give before or page, not both', path: ['page'] });

/** `POST /api/polls/queue`: a poll to put on air after the ones already queued. */
export const queueBody = z.strictObject({
  question: z.string(),
  options: z.array(z.string()).min(MIN_OPTIONS).max(MAX_OPTIONS),
  /** Voting time; absent: POLL_DURATION_SECONDS; 0: until closed by hand. */
  durationSeconds: duration.optional(),
});

export const queueIdParams = z.strictObject({
  id: z.string().regex(/^[1-9][0-9]{0,9}$/, 'queue id must be a positive integer'),
});

/** The answer of `GET /api/polls` (for the OpenAPI document). */
export const pollListResponse = z.object({
  polls: z.array(z.object({ id: z.number(), question: z.string(), closedAt: z.string().nullable(), winner: z.unknown() }).passthrough()),
  nextBefore: z.number().nullable(),
  page: z.number().optional(),
  limit: z.number(),
});

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw validation(r.error);
  return r.data;
}

export function pollsAdminRouter(deps: { polls: PollService; requireToken: express.RequestHandler }): express.Router {
  const { polls, requireToken } = deps;
  const router = express.Router();

  router.get('/api/polls', async (req, res) => {
    const q = parse(pollListQuery, req.query);
    const offset = q.page ? (q.page - 1) * q.limit : 0;
    const r = await polls.history({ limit: q.limit, before: q.before, offset });
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      polls: r.polls,
      nextBefore: r.more && r.polls.length ? r.polls[r.polls.length - 1].id : null,
      ...(q.page ? { page: q.page } : {}),
      limit: q.limit,
    });
  });

  router.get('/api/polls/queue', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ queue: await polls.queue() });
  });

  router.post('/api/polls/queue', requireToken, async (req, res) => {
    const body = parse(queueBody, req.body ?? {});
    const draft = parse(draftSchema, { question: body.question, options: body.options });
    res.status(201).json(await polls.enqueue(draft, body.durationSeconds ?? null));
  });

  router.delete('/api/polls/queue/:id', requireToken, async (req, res) => {
    const { id } = parse(queueIdParams, req.params);
    if (!(await polls.dequeue(Number(id)))) throw notFound(`no queued poll ${id}`);
    res.json({ ok: true, id: Number(id) });
  });

  router.post('/api/poll/close', requireToken, async (_req, res) => {
    const closed = await polls.closeNow();
    if (!closed) throw conflict('no poll is open', { reason: 'no_open_poll' });
    res.json({ closed });
  });

  return router;
}
