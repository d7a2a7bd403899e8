// Budgets per client address, kept in Redis so every web node spends from the same one: a
// fixed-window counter per budget and key (`sf:budget:<budget>:<key>`, the counters
// rate-limiter-flexible's RateLimiterRedis kept before), spent by one Lua script
// (redis/lua/budget-take.lua): every budget of a request, and the requests waiting at that
// moment, in one round trip. Over budget: 429 with Retry-After, logged once per address and
// budget per minute.
import type { Redis } from 'ioredis';
import { AppError } from '../errors.js';
import { keys } from '../keys.js';
import { defineScripts, type RedisScripts } from '../redis/index.js';
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

/** One unit of one budget: `key` an address, or poll:address; `address` for the log. */
export interface Spend {
  name: BudgetName;
  key: string;
  address?: string;
}

interface Counter {
  key: string;
  points: 1 | -1;
  limit: number;
  windowS: number;
}

interface Waiting {
  counters: Counter[];
  resolve: (r: [over: number, msLeft: number]) => void;
  reject: (err: unknown) => void;
}

/** Most requests in one script call (a call blocks Redis while it runs: keep it short). */
const MAX_BATCH = 200;

export class Budgets {
  private readonly scripts: RedisScripts;
  private readonly said = new LogOnce();
  private readonly rules: Record<BudgetName, { points: number; windowS: number }>;
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(redis: Redis, readonly limits: BudgetLimits) {
    this.scripts = defineScripts(redis);
    this.rules = {
      // A poll rarely stays open a week; the key carries the poll id, so a new poll starts afresh.
      votes: { points: limits.votesPerPoll, windowS: 7 * 24 * 3600 },
      voters: { points: limits.newVotersPerHour, windowS: 3600 },
      control: { points: limits.controlPerMinute, windowS: 60 },
      // Open feeds: taken on open, given back on close; the TTL bounds what a dead node leaks.
      sse: { points: limits.ssePerAddress, windowS: 3600 },
      sockets: { points: limits.socketsPerMinute, windowS: 60 },
    };
  }

  /** Spends one unit of `name` for `key` (an address, or poll:address); throws 429 when spent. */
  take(name: BudgetName, key: string, address = key): Promise<void> {
    return this.takeAll([{ name, key, address }]);
  }

  /**
   * Spends one unit of each, in order, atomically: the first one past its limit throws 429
   * (logged once per address and budget a minute), and the ones after it are not spent.
   */
  async takeAll(spends: readonly Spend[]): Promise<void> {
    if (spends.length === 0) return;
    const [over, msLeft] = await this.spend(spends.map((sp) => this.counter(sp.name, sp.key, 1)));
    if (over === 0) return;
    const { name, key, address = key } = spends[over - 1];
    const retryAfter = Math.ceil(msLeft / 1000);
    if (this.said.shouldLog(`${name}:${address}`)) {
      logger.warn(`over budget: ${address} spent its ${this.limitOf(name)} ${WHAT[name]}; answering 429 (retry after ${retryAfter} s); said once a minute`);
    }
    throw tooManyRequests(`too many ${WHAT[name]}: at most ${this.limitOf(name)}; try again later`, retryAfter, { budget: name });
  }

  /** Gives one unit back (a vote that was not counted, a feed that closed). */
  async giveBack(name: BudgetName, key: string): Promise<void> {
    await this.spend([this.counter(name, key, -1)]).catch(() => {});
  }

  limitOf(name: BudgetName): number {
    return this.rules[name].points;
  }

  private counter(name: BudgetName, key: string, points: 1 | -1): Counter {
    const rule = this.rules[name];
    return { key: `${keys.budget(name)}:${key}`, points, limit: rule.points, windowS: rule.windowS };
  }

  /**
   * The Redis side: every request's counters waiting when the event loop comes round go in
   * one script call (budget-take.lua), so a burst of votes costs one round trip, not one or
   * two each. Each request is still all-or-first-refusal on its own, as if called alone.
   */
  private spend(counters: Counter[]): Promise<[number, number]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ counters, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const all = this.waiting;
    this.waiting = [];
    for (let at = 0; at < all.length; at += MAX_BATCH) this.send(all.slice(at, at + MAX_BATCH));
  };

  private send(batch: Waiting[]): void {
    const counters: string[] = [];
    const args: (string | number)[] = [];
    batch.forEach((w, r) => {
      for (const c of w.counters) {
        counters.push(c.key);
        args.push(r + 1, c.points, c.limit, c.windowS);
      }
    });
    this.scripts.budgetTake(counters, args).then(
      (out) => batch.forEach((w, r) => w.resolve([Number(out[2 * r]), Number(out[2 * r + 1])])),
      (err) => batch.forEach((w) => w.reject(err)),
    );
  }
}
