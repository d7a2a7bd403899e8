// Polls for the routes and the socket relay: the current poll (from the live view, in
// memory), votes (PollVoting: durable in Postgres before they are accepted, counted live in
// Redis), new polls (PollRotation), past results, and the Redis-vs-Postgres repairs
// (TallyRecovery). This class only wires them and keeps the public API in one place.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { log, errMessage } from '../logger.js';
import { countVote } from '../metrics/instrument.js';
import { BuiltinGenerator, type PollGenerator } from './generator.js';
import { PollLiveView } from './live-view.js';
import { TallyRecovery } from './recovery.js';
import { countVotes, getPollById } from './repo.js';
import { PollRotation, type AutoNext, type GenerateOptions } from './rotation.js';
import { PollStore, pollKeys, type PollKeys } from './store.js';
import { buildView } from './tally.js';
import type { PollView } from './types.js';
import { PollVoting, type VoteResult } from './voting.js';

export { VOTER_ID_RE, type VoteResult } from './voting.js';
export type { GenerateOptions } from './rotation.js';

const logger = log('POLL');

export interface PollServiceOptions {
  pool: pg.Pool;
  redis: Redis;
  /** A subscriber connection: with it, other processes' votes reach our view at once. */
  subscriber?: Redis;
  generator?: PollGenerator;
  /** Redis key names (default: the ones in src/keys.ts). */
  keys?: PollKeys;
  /** How long the in-memory view is trusted before re-reading Redis (default 1000 ms, 250 without a subscriber). */
  cacheMs?: number;
  /** Most votes in one INSERT (default 1000). */
  maxBatch?: number;
  /** INSERTs in flight at once (default: pool size - 1, at least 1, at most 4). */
  batchConcurrency?: number;
  /** How long a closed poll's Redis keys live (default one day). */
  closedTtlSeconds?: number;
  /** Period of the Redis-vs-Postgres check (default 30 s; 0 turns it off). */
  reconcileMs?: number;
  /** A 24/7 loop of polls (see PollRotation). */
  autoNext?: AutoNext;
}

export class PollService {
  readonly store: PollStore;
  /** The open poll with live counts; readers (the socket relay) subscribe to it. */
  readonly live: PollLiveView;
  private readonly pool: pg.Pool;
  private readonly recovery: TallyRecovery;
  private readonly voting: PollVoting;
  private readonly rotation: PollRotation;
  private readonly closedCache = new Map<number, PollView>();
  private json: { of: PollView; text: string } | null = null;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: PollServiceOptions) {
    const pool = (this.pool = opts.pool);
    const store = (this.store = new PollStore(opts.redis, opts.keys ?? pollKeys()));
    const closedTtlSeconds = opts.closedTtlSeconds ?? 86_400;
    this.recovery = new TallyRecovery(pool, store, { closedTtlSeconds, onRepaired: () => this.live.invalidate() });
    const live = (this.live = new PollLiveView({
      store,
      subscriber: opts.subscriber,
      refreshMs: opts.cacheMs ?? (opts.subscriber ? 1000 : 250),
      missing: () => this.recovery.restoreCurrent(),
    }));
    live.subscribe((_view, previous) => previous && this.rememberClosed(previous));
    const recovery = this.recovery;
    this.voting = new PollVoting({ pool, store, live, recovery, maxBatch: opts.maxBatch, batchConcurrency: opts.batchConcurrency });
    const generator = opts.generator ?? new BuiltinGenerator();
    this.rotation = new PollRotation({ pool, store, live, recovery, generator, closedTtlSeconds, autoNext: opts.autoNext });
  }

  /** Subscribes to poll events, and starts the periodic Redis-vs-Postgres check and the autoNext loop. */
  async start(): Promise<void> {
    await this.live.start();
    const every = this.opts.reconcileMs ?? 30_000;
    if (every > 0 && !this.reconcileTimer) {
      this.reconcileTimer = setInterval(() => {
        this.reconcile().catch((err) => logger.warn(`poll reconcile failed: ${errMessage(err)}`));
      }, every);
      this.reconcileTimer.unref();
    }
    this.rotation.start();
  }

  /** Lets in-flight votes finish, then stops listening. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.reconcileTimer);
    this.rotation.close();
    this.recovery.close();
    await this.voting.drain();
    await this.live.close();
  }

  /** Makes sure a poll is open (creating the first one on a fresh database) and live in Redis. */
  ensurePoll(): Promise<PollView> {
    return this.rotation.ensurePoll();
  }

  /** The open poll with live counts, from memory (reread from Redis when older than `cacheMs`). */
  current(): Promise<PollView | null> {
    return this.live.fresh();
  }

  /** `current()` already serialised (the JSON is built once per change, not per request). */
  async currentJson(): Promise<string | null> {
    const v = await this.current();
    if (!v) return null;
    if (this.json?.of !== v) this.json = { of: v, text: JSON.stringify(v) };
    return this.json.text;
  }

  /** Re-reads the current poll from Redis (rebuilding it from Postgres if Redis lost it). */
  refresh(): Promise<PollView | null> {
    return this.live.refresh();
  }

  /** See PollVoting.vote. */
  vote(option: string, voterId: string): Promise<VoteResult> {
    return countVote(this.voting.vote(option, voterId));
  }

  /** Closes the open poll (keeping its final tally) and opens a new one. */
  generate(opts: GenerateOptions = {}): Promise<{ poll: PollView; closed: PollView | null }> {
    return this.rotation.generate(opts);
  }

  /** See PollRotation.rotateIfEnded. */
  rotateIfEnded(): Promise<PollView | null> {
    return this.rotation.rotateIfEnded();
  }

  /** Any poll by id: a closed one with its final tally, the open one with live counts. */
  async getPoll(id: number): Promise<PollView | null> {
    const cached = this.closedCache.get(id);
    if (cached) return cached;
    const current = await this.current();
    if (current && current.id === id) return current;
    const def = await getPollById(this.pool, id);
    if (!def) return null;
    if (def.closedAt) {
      const view = buildView(def, def.finalTally ?? (await countVotes(this.pool, id)));
      this.rememberClosed(view);
      return view;
    }
    const live = await this.store.read(id);
    return live ? buildView(def, live.counts) : buildView(def, await countVotes(this.pool, id));
  }

  /** Compares Redis with Postgres for the open poll and replays what Redis is missing. True if it repaired something. */
  reconcile(settleMs = 1000): Promise<boolean> {
    return this.recovery.reconcile(settleMs);
  }

  /** Recreates a poll's live keys from Postgres; safe while votes keep arriving. */
  rebuild(pollId: number): Promise<void> {
    return this.recovery.rebuild(pollId);
  }

  private rememberClosed(view: PollView): void {
    this.closedCache.set(view.id, view);
    if (this.closedCache.size > 100) this.closedCache.delete(this.closedCache.keys().next().value!);
  }
}
