// Budgets per client address, kept in Redis (rate-limiter-flexible's RateLimiterRedis: one
// atomic INCR + TTL per check) so every web node spends from the same one. Over budget:
// 429 with Retry-After, logged once per address and budget per minute.
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';
import { keys } from '../keys.js';
import { log } from '../logger.js';
import type { Config } from '../config.js';

const logger = log('APP');

export type BudgetName = 'votes' | 'voters' | 'control' | 'sse' | 'sockets';

export interface BudgetLimits {
  votesPerPoll: number;
  newVotersPerHour: number;
  controlPerMinute: number;
  ssePerAddress: number;
  socketsPerMinute: number;
}

export function limitsFrom(c: Config): BudgetLimits {
  return {
    votesPerPoll: c.LIMIT_VOTES_PER_POLL,
    newVotersPerHour: c.LIMIT_NEW_VOTERS_PER_HOUR,
    controlPerMinute: c.LIMIT_CONTROL_PER_MINUTE,
    ssePerAddress: c.LIMIT_SSE_PER_ADDRESS,
    socketsPerMinute: c.LIMIT_SOCKETS_PER_MINUTE,
  };
}

const WHAT: Record<BudgetName, string> = {
  votes: 'votes from this address in this poll',
  voters: 'new voter identities from this address',
  control: 'control calls from this address',
  sse: 'open feeds from this address',
  sockets: 'socket.io connections from this address',
};

export function tooManyRequests(message: string, retryAfterS: number, details?: unknown): AppError {
  const e = new AppError(429, 'rate_limited', message, details);
  e.retryAfter = Math.max(1, Math.ceil(retryAfterS));
  return e;
}

/** Says a thing once per key per interval (a flood must not become a flood of log lines). */
export class LogOnce {
  private readonly last = new Map<string, number>();
  constructor(private readonly everyMs = 60_000) {}
  shouldLog(key: string, now = Date.now()): boolean {
    const at = this.last.get(key);
    if (at !== undefined && now - at < this.everyMs) return false;
    if (this.last.size > 10_000) for (const [k, t] of this.last) if (now - t >= this.everyMs) this.last.delete(k);
    this.last.set(key, now);
    return true;
  }
}

export class Budgets {
  private readonly limiters: Record<BudgetName, RateLimiterRedis>;
  private readonly said = new LogOnce();

  constructor(redis: Redis, readonly limits: BudgetLimits) {
    const make = (name: BudgetName, points: number, duration: number) =>
      new RateLimiterRedis({ storeClient: redis, keyPrefix: keys.budget(name), points, duration });
    this.limiters = {
      // A poll rarely stays open a week; the key carries the poll id, so a new poll starts afresh.
      votes: make('votes', limits.votesPerPoll, 7 * 24 * 3600),
      voters: make('voters', limits.newVotersPerHour, 3600),
      control: make('control', limits.controlPerMinute, 60),
      // Open feeds: taken on open, given back on close; the TTL bounds what a dead node leaks.
      sse: make('sse', limits.ssePerAddress, 3600),
      sockets: make('sockets', limits.socketsPerMinute, 60),
    };
  }

  /** Spends one unit of `name` for `key` (an address, or poll:address); throws 429 when spent. */
  async take(name: BudgetName, key: string, address = key): Promise<void> {
    try {
      await this.limiters[name].consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const retryAfter = Math.ceil(err.msBeforeNext / 1000);
      if (this.said.shouldLog(`${name}:${address}`)) {
        logger.warn(`over budget: ${address} spent its ${this.limitOf(name)} ${WHAT[name]}; answering 429 (retry after ${retryAfter} s); said once a minute`);
      }
      throw tooManyRequests(`too many ${WHAT[name]}: at most ${this.limitOf(name)}; try again later`, retryAfter, { budget: name });
    }
  }

  /** Gives one unit back (a vote that was not counted, a feed that closed). */
  async giveBack(name: BudgetName, key: string): Promise<void> {
    await this.limiters[name].reward(key).catch(() => {});
  }

  limitOf(name: BudgetName): number {
    return this.limiters[name].points;
  }
}
