// A poll service and a tiny app around its router, with Redis keys in a namespace of their
// own, so these tests never touch the real `sf:poll:*` keys or another run's.
import crypto from 'node:crypto';
import express from 'express';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { errorHandler, unauthorized } from '../../src/errors.js';
import { PollService, type PollServiceOptions } from '../../src/polls/service.js';
import { Subscriber } from '../../src/redis/index.js';
import { pollKeys, type PollKeys } from '../../src/polls/store.js';
import { pollRouter } from '../../src/routes/poll.js';
import { Budgets } from '../../src/security/budgets.js';
import { VoteGate } from '../../src/security/vote-gate.js';
import { VoterIdentity } from '../../src/security/voters.js';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TOKEN = 'test-token-123456';

export const requireToken: express.RequestHandler = (req, _res, next) =>
  next(req.headers.authorization === `Bearer ${TOKEN}` ? undefined : unauthorized());

let gateRedis: Redis | null = null;

/**
 * The voter gate of the service (signed cookies, budgets in Redis) with budgets no test of the
 * poll itself meets; the budgets are tested in test/security/.
 */
export function testVoteGate(polls: PollService, limits: Partial<ConstructorParameters<typeof Budgets>[1]> = {}): VoteGate {
  gateRedis ??= new Redis(REDIS_URL);
  const big = 1_000_000_000;
  const budgets = new Budgets(gateRedis, { votesPerPoll: big, newVotersPerHour: big, controlPerMinute: big, ssePerAddress: big, socketsPerMinute: big, ...limits });
  return new VoteGate({
    identity: new VoterIdentity('test-voter-secret-0123456789'),
    budgets,
    token: TOKEN,
    currentPollId: async () => (await polls.current())?.id ?? null,
  });
}

/** Closes the gate's Redis connection (mocha's root hooks call it; safe twice). */
export function closeTestVoteGate(): void {
  gateRedis?.disconnect();
  gateRedis = null;
}

export function pollApp(polls: PollService, opts: { static?: string } = {}): express.Express {
  const app = express();
  app.use(express.json({ limit: '16kb' }));
  if (opts.static) app.use(express.static(opts.static));
  app.use(pollRouter({ polls, requireToken, votes: testVoteGate(polls) }));
  app.use(errorHandler);
  return app;
}

export function uniquePrefix(label: string): string {
  return `sftest:${label}:${crypto.randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, never FLUSHDB: other suites share this Redis). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (found.length) n += await redis.del(...found);
  } while (cursor !== '0');
  return n;
}

/** Services made by one suite, closed together; each with its own Redis connections. */
export class PollHarness {
  readonly keys: PollKeys;
  readonly redis: Redis;
  private readonly made: { svc: PollService; conns: Redis[] }[] = [];

  constructor(readonly prefix: string) {
    this.keys = pollKeys(prefix);
    this.redis = new Redis(REDIS_URL);
  }

  async service(pool: pg.Pool, opts: Partial<PollServiceOptions> & { subscribe?: boolean } = {}): Promise<PollService> {
    const redis = new Redis(REDIS_URL);
    const conns = [redis];
    let subscriber: Subscriber | undefined;
    if (opts.subscribe) {
      const connection = new Redis(REDIS_URL);
      conns.push(connection);
      subscriber = new Subscriber(connection);
    }
    const svc = new PollService({ pool, redis, subscriber, keys: this.keys, reconcileMs: 0, ...opts });
    await svc.start();
    this.made.push({ svc, conns });
    return svc;
  }

  /** Closes services (a process stopping); their connections go too. */
  async closeServices(): Promise<void> {
    for (const { svc, conns } of this.made.splice(0)) {
      await svc.close();
      for (const c of conns) c.disconnect();
    }
  }

  async tally(pollId: number): Promise<Record<string, number>> {
    const h = await this.redis.hgetall(this.keys.tally(pollId));
    return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  }

  async close(): Promise<void> {
    await this.closeServices();
    await deleteKeys(this.redis, this.prefix);
    this.redis.disconnect();
  }
}
