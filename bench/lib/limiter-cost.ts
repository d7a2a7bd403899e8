// What the vote limiter alone costs per vote, in the web process and in Redis, at the
// concurrency of the legit loads (100 votes in flight): the budget checks of one vote from a
// new browser (new-voter budget, then vote budget, each at a new address), done
//  - as before: two rate-limiter-flexible RateLimiterRedis consumes in a row (two round trips);
//  - as now: Budgets.takeAll (one script call for both, shared with the votes waiting alongside).
// Both against the same Redis, alternating, so the machine's other work weighs on each alike.
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { Budgets } from '../../src/security/budgets.js';
import { deleteKeys } from '../../test/helpers/stack.js';

export interface Cost {
  /** Web-process CPU µs per vote. */
  nodeUs: number;
  /** Redis CPU µs per vote (INFO cpu; this Redis is the bench's own). */
  redisUs: number;
  votesPerS: number;
}

async function redisCpu(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const v = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return v('used_cpu_user') + v('used_cpu_sys');
}

async function measure(redis: Redis, votes: number, inFlight: number, vote: (i: number) => Promise<void>): Promise<Cost> {
  const r0 = await redisCpu(redis);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < votes) await vote(next++);
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const r1 = await redisCpu(redis);
  return { nodeUs: (c.user + c.system) / votes, redisUs: ((r1 - r0) * 1e6) / votes, votesPerS: votes / secs };
}

export async function limiterCost(redis: Redis, votes = 20_000, inFlight = 100): Promise<{ before: Cost; now: Cost }> {
  const run = crypto.randomBytes(3).toString('hex');
  const big = 1_000_000_000;
  const prefix = `sf:bench:${run}`;
  const rlVoters = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}:voters`, points: big, duration: 3600 });
  const rlVotes = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}:votes`, points: big, duration: 7 * 24 * 3600 });
  const budgets = new Budgets(redis, { votesPerPoll: big, newVotersPerHour: big, controlPerMinute: big, ssePerAddress: big, socketsPerMinute: big });
  const addr = (i: number) => `${run}.${i}`;
  const before: Cost[] = [];
  const now: Cost[] = [];
  try {
    for (let round = 0; round < 3; round++) {
      before.push(
        await measure(redis, votes, inFlight, async (i) => {
          await rlVoters.consume(addr(i));
          await rlVotes.consume(`bench:${addr(i)}`);
        }),
      );
      now.push(
        await measure(redis, votes, inFlight, (i) =>
          budgets.takeAll([
            { name: 'voters', key: `b${addr(i)}` },
            { name: 'votes', key: `bench:b${addr(i)}` },
          ]),
        ),
      );
    }
  } finally {
    await deleteKeys(redis, `${prefix}:*`);
    await deleteKeys(redis, `sf:budget:*${run}*`);
  }
  const med = (xs: Cost[], k: keyof Cost) => xs.map((x) => x[k]).sort((a, b) => a - b)[1];
  const pick = (xs: Cost[]): Cost => ({ nodeUs: med(xs, 'nodeUs'), redisUs: med(xs, 'redisUs'), votesPerS: med(xs, 'votesPerS') });
  return { before: pick(before), now: pick(now) };
}
