// Budgets spent together (budget-take.lua): the checks of every request waiting in one event-loop
// turn go to Redis in one script call, and each request keeps the semantics it had alone:
// its budgets in order, the first one spent refuses it (429 + Retry-After) and leaves the ones
// after it untouched; a unit given back can be spent again; Redis away rejects every waiter.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { AppError } from '../../src/errors.js';
import { Budgets, type BudgetLimits } from '../../src/security/budgets.js';
import { REDIS_URL } from '../helpers/env.js';
import { deleteKeys } from '../helpers/stack.js';

const LIMITS: BudgetLimits = { votesPerPoll: 5, newVotersPerHour: 3, controlPerMinute: 2, ssePerAddress: 2, socketsPerMinute: 2 };

async function outcome(p: Promise<void>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof AppError && err.status === 429) return `429 ${(err.details as { budget: string }).budget} retry ${err.retryAfter}`;
    return `error ${(err as Error).message}`;
  }
}

describe('security: budgets spent in one round trip', function () {
  this.timeout(30_000);
  let redis: Redis;
  let budgets: Budgets;
  const run = crypto.randomBytes(3).toString('hex');
  const addr = (n: number) => `192.0.2.${n}-${run}`;

  before(() => {
    redis = new Redis(REDIS_URL);
    budgets = new Budgets(redis, LIMITS);
  });
  after(async () => {
    await deleteKeys(redis, `sf:budget:*${run}*`);
    redis.disconnect();
  });

  it('counts 30 concurrent votes from one address exactly: 5 pass, 25 refused with Retry-After', async () => {
    const a = addr(1);
    const calls = Array.from({ length: 30 }, () => outcome(budgets.take('votes', `p1:${a}`, a)));
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === 'ok')).to.have.length(5);
    const refused = results.filter((r) => r !== 'ok');
    expect(refused).to.have.length(25);
    for (const r of refused) expect(r).to.match(/^429 votes retry \d+$/);
    expect(Number(/retry (\d+)/.exec(refused[0])![1])).to.be.within(604_000, 604_800);
    expect(await redis.get(`sf:budget:votes:p1:${a}`)).to.equal('30'); // a refused take counts too
    expect(await redis.ttl(`sf:budget:votes:p1:${a}`)).to.be.within(604_000, 604_800);
  });

  it('spends a request’s budgets in order: over the first, the second is untouched', async () => {
    const a = addr(2);
    const spends = [
      { name: 'voters' as const, key: a },
      { name: 'votes' as const, key: `p1:${a}`, address: a },
    ];
    const results = await Promise.all(Array.from({ length: 5 }, () => outcome(budgets.takeAll(spends))));
    expect(results.slice().sort()).to.deep.equal(['429 voters retry 3600', '429 voters retry 3600', 'ok', 'ok', 'ok']);
    expect(await redis.get(`sf:budget:voters:${a}`)).to.equal('5');
    expect(await redis.get(`sf:budget:votes:p1:${a}`)).to.equal('3');
  });

  it('over the second budget, the first stays spent', async () => {
    const a = addr(3);
    for (let i = 0; i < 5; i++) await budgets.take('votes', `p2:${a}`, a);
    const r = await outcome(budgets.takeAll([{ name: 'voters', key: a }, { name: 'votes', key: `p2:${a}`, address: a }]));
    expect(r).to.match(/^429 votes/);
    expect(await redis.get(`sf:budget:voters:${a}`)).to.equal('1');
  });

  it('keeps requests of one batch apart: other addresses pass while one is refused', async () => {
    const spent = addr(4);
    for (let i = 0; i < 2; i++) await budgets.take('control', spent);
    const mixed = await Promise.all([
      outcome(budgets.take('control', spent)),
      outcome(budgets.take('control', addr(5))),
      outcome(budgets.takeAll([])),
      outcome(budgets.take('sockets', spent)),
    ]);
    expect(mixed[0]).to.match(/^429 control retry ([1-9]|[1-5]\d|60)$/);
    expect(mixed.slice(1)).to.deep.equal(['ok', 'ok', 'ok']);
  });

  it('gives a unit back that can be spent again', async () => {
    const a = addr(6);
    await budgets.take('sse', a);
    await budgets.take('sse', a);
    expect(await outcome(budgets.take('sse', a))).to.match(/^429 sse/);
    await budgets.giveBack('sse', a);
    await budgets.giveBack('sse', a);
    expect(await outcome(budgets.take('sse', a))).to.equal('ok');
    // A unit given back to a counter that is gone leaves one with a window, never one forever.
    const gone = addr(8);
    await budgets.giveBack('sse', gone);
    expect(await redis.get(`sf:budget:sse:${gone}`)).to.equal('-1');
    expect(await redis.ttl(`sf:budget:sse:${gone}`)).to.be.within(3500, 3600);
  });

  it('rejects every waiting request when Redis fails, and works again after', async () => {
    // Nothing listens on port 1: every command fails at once (the service's client fails fast the same way).
    const broken = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    broken.on('error', () => {});
    const b = new Budgets(broken, LIMITS);
    const results = await Promise.all([outcome(b.take('votes', `p3:${addr(7)}`)), outcome(b.take('voters', addr(7)))]);
    for (const r of results) expect(r).to.match(/^error /);
    broken.disconnect();
    expect(await outcome(budgets.take('votes', `p3:${addr(7)}`))).to.equal('ok');
  });
});
