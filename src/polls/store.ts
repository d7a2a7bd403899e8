// The live side of polls in Redis. Key names come from src/keys.ts; a prefix lets tests (and
// a second deployment on the same Redis) use their own namespace.
//
//   sf:poll:current   string  id of the open poll
//   sf:poll:{id}      string  JSON PollDef
//   sf:tally:{id}     hash    option key → count (every option present, 0 included)
//   sf:voters:{id}    set     voter ids that voted, plus "" as a marker that the set exists
//   sf:poll:events    pub/sub JSON PollEvent
//   sf:poll:show:lease string  the node running the show loop (polls/show.ts)
//
// A vote updates voters and tally in one script and only if the voter is new, so replaying a
// vote is harmless: that is what lets us rebuild from Postgres while live votes keep arriving.
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { defineScripts } from '../redis/index.js';
import { log, errMessage } from '../logger.js';
import type { PollDef, PollEvent } from './types.js';

const logger = log('POLL');

export interface PollKeys {
  current(): string;
  poll(id: number): string;
  tally(id: number): string;
  voters(id: number): string;
  events(): string;
  showLease(): string;
}

export function pollKeys(prefix = ''): PollKeys {
  return {
    current: () => prefix + keys.pollCurrent(),
    poll: (id) => prefix + keys.poll(id),
    tally: (id) => prefix + keys.tally(id),
    voters: (id) => prefix + keys.voters(id),
    events: () => prefix + keys.pollEvents(),
    showLease: () => prefix + keys.pollShowLease(),
  };
}

/** The voters-set member that marks the set as initialised (voter ids are never empty). */
export const VOTERS_MARKER = '';

function pairsToRecord(flat: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = Number(flat[i + 1]);
  return out;
}

export class PollStore {
  constructor(
    readonly redis: Redis,
    readonly k: PollKeys = pollKeys(),
  ) {}

  /** Writes the definition; returns true if the counters were (re)created empty. */
  async init(def: PollDef): Promise<boolean> {
    // Keeps existing counts when both keys are there; otherwise starts them over (the caller
    // then replays the votes from Postgres). src/redis/lua/poll-init.lua
    const r = await defineScripts(this.redis).pollInit(
      [this.k.tally(def.id), this.k.voters(def.id), this.k.poll(def.id)],
      [JSON.stringify(def), ...def.options.map((o) => o.key)],
    );
    return r === 1;
  }

  /** Counts new voters once each. null: the keys are gone (rebuild, then try again). */
  async apply(pollId: number, votes: { voterId: string; option: string }[]): Promise<Record<string, number> | null> {
    const args: string[] = [];
    for (const v of votes) args.push(v.voterId, v.option);
    // -1 when the keys are missing (Redis lost them). src/redis/lua/poll-apply.lua
    const r = await defineScripts(this.redis).pollApply([this.k.tally(pollId), this.k.voters(pollId)], args);
    return r === -1 ? null : pairsToRecord(r as string[]);
  }

  async currentId(): Promise<number | null> {
    const v = await this.redis.get(this.k.current());
    const n = v === null ? NaN : Number(v);
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  }

  async setCurrent(id: number): Promise<void> {
    await this.redis.set(this.k.current(), String(id));
  }

  /** Definition and counts of a poll; null when either is missing. */
  async read(id: number): Promise<{ def: PollDef; counts: Record<string, number> } | null> {
    const [[e1, json], [e2, tally]] = (await this.redis
      .multi()
      .get(this.k.poll(id))
      .hgetall(this.k.tally(id))
      .exec()) as [[Error | null, string | null], [Error | null, Record<string, string>]];
    if (e1) throw e1;
    if (e2) throw e2;
    if (!json || !tally || Object.keys(tally).length === 0) return null;
    const counts: Record<string, number> = {};
    for (const [key, v] of Object.entries(tally)) counts[key] = Number(v);
    return { def: JSON.parse(json) as PollDef, counts };
  }

  /** The open poll as Redis has it; null when there is none or a key is missing. */
  async readCurrent(): Promise<{ def: PollDef; counts: Record<string, number> } | null> {
    const id = await this.currentId();
    return id === null ? null : this.read(id);
  }

  async voterCount(id: number): Promise<number> {
    return Math.max(0, (await this.redis.scard(this.k.voters(id))) - 1);
  }

  /** A closed poll keeps its final definition; its live keys expire. */
  async retire(def: PollDef, ttlSeconds: number): Promise<void> {
    await this.redis
      .multi()
      .set(this.k.poll(def.id), JSON.stringify(def), 'EX', ttlSeconds)
      .expire(this.k.tally(def.id), ttlSeconds)
      .expire(this.k.voters(def.id), ttlSeconds)
      .exec();
  }

  async publish(event: PollEvent): Promise<void> {
    await this.redis.publish(this.k.events(), JSON.stringify(event));
  }

  /** Publishes, and only logs a failure: the change is recorded, and readers reread Redis anyway. */
  async tell(event: PollEvent): Promise<void> {
    try {
      await this.publish(event);
    } catch (err) {
      logger.warn(`publishing a poll update failed: ${errMessage(err)}`);
    }
  }

  /** Deletes every key of these polls and the current pointer (tests and tooling). */
  async purge(ids: number[]): Promise<void> {
    const list = [this.k.current(), ...ids.flatMap((id) => [this.k.poll(id), this.k.tally(id), this.k.voters(id)])];
    await this.redis.del(...list);
  }
}
