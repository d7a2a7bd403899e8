// Poll endpoints: the current poll, votes, a new poll (token), a past poll's results.
import type http from 'node:http';
import express from 'express';
import { z } from 'zod';
import { notFound, validation } from '../errors.js';
import { draftSchema } from '../polls/generator.js';
import { VOTER_ID_RE, type PollService } from '../polls/service.js';
import { MAX_OPTIONS, MIN_OPTIONS } from '../polls/types.js';
import type { VoteGate } from '../security/vote-gate.js';

export { VOTER_COOKIE } from '../security/voters.js';

export const voteBody = z.strictObject({
  option: z.string().trim().min(1, 'option is required').max(200),
  voterId: z.string().regex(VOTER_ID_RE, 'voterId must be 1-128 characters of A-Z a-z 0-9 _ . : @ -').optional(),
});

export const generateBody = z
  .strictObject({
    question: z.string().optional(),
    options: z.array(z.string()).min(MIN_OPTIONS).max(MAX_OPTIONS).optional(),
    durationSeconds: z.number().int().min(10).max(7 * 24 * 3600).optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.question === undefined) !== (b.options === undefined)) {
      ctx.addIssue({ code: 'custom', path: [b.question === undefined ? 'question' : 'options'], message: 'give question and options together' });
      return;
    }
    if (b.question !== undefined) {
      const r = draftSchema.safeParse({ question: b.question, options: b.options });
      if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
    }
  });

export const pollIdParams = z.strictObject({
  // Postgres integer ids: a larger number is no poll of ours (400, never a database error).
  id: z.string().regex(/^[1-9][0-9]{0,9}$/, 'poll id must be a positive integer').refine((s) => Number(s) <= 2_147_483_647, 'poll id out of range'),
});

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw validation(r.error);
  return r.data;
}

export function pollRouter(deps: { polls: PollService; requireToken: express.RequestHandler; votes: VoteGate }): express.Router {
  const { polls } = deps;
  const router = express.Router();

  router.get('/api/poll', async (_req, res) => {
    const json = await polls.currentJson();
    if (!json) throw notFound('no poll is open');
    // Built once per change; res.end skips ETag hashing on this hot path.
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(json);
  });

  router.post('/api/vote', async (req, res) => {
    const body = parse(voteBody, req.body ?? {});
    // issue 10: the server says who votes (signed cookie; a voterId only with the token) and how many count.
    const voter = deps.votes.identify(req, res, body.voterId);
    const r = await deps.votes.cast(voter, () => polls.vote(body.option, voter.voterId));
    res.json({ ok: true, pollId: r.pollId, option: r.option, poll: r.poll });
  });

  router.post('/api/poll/generate', deps.requireToken, async (req, res) => {
    const body = parse(generateBody, req.body ?? {});
    const draft = body.question !== undefined ? { question: body.question.trim(), options: body.options!.map((o) => o.trim()) } : undefined;
    const r = await polls.generate({ draft, durationSeconds: body.durationSeconds });
    res.status(201).json(r);
  });

  router.get('/api/polls/:id', async (req, res) => {
    const { id } = parse(pollIdParams, req.params);
    const poll = await polls.getPoll(Number(id));
    if (!poll) throw notFound(`no poll ${id}`);
    res.setHeader('Cache-Control', poll.closedAt ? 'public, max-age=60' : 'no-store');
    res.json(poll);
  });

  return router;
}

type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * Serves `GET /api/poll` straight from the HTTP server, before Express. On a 2-core machine
 * Express 5 tops out near 6,000 requests/s even for a constant answer; this path does
 * well over 10,000 (bench/poll-read.ts). Wraps the server's current request listeners (the
 * Express app, socket.io's), so install it after them. Returns an uninstall function.
 * Anything else, and any error, goes on to the previous listeners (the router above answers
 * the same route, with the app's error handler).
 */
export function installPollFastPath(server: http.Server, polls: PollService): () => void {
  const previous = server.listeners('request') as RequestListener[];
  const next: RequestListener = (req, res) => {
    for (const l of previous) l.call(server, req, res);
  };
  const fast: RequestListener = (req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'GET' || !(url === '/api/poll' || url.startsWith('/api/poll?'))) return next(req, res);
    polls.currentJson().then(
      (json) => {
        if (!json) return next(req, res); // 404 in the app's own words
        res.statusCode = 200;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.end(json);
      },
      () => next(req, res),
    );
  };
  server.removeAllListeners('request');
  server.on('request', fast);
  return () => {
    server.off('request', fast);
    for (const l of previous) server.on('request', l);
  };
}
