// Polls: the current poll (served from memory), votes (durable in Postgres before they are
// accepted, counted live in Redis), new polls, and past results.
//
// Durability: a vote is answered "accepted" only after the INSERT that records it has
// committed in Postgres (votes of concurrent requests share one multi-row INSERT). Redis is
// updated after that, idempotently per voter; if Redis fails at that moment the vote stays
// accepted and recorded, the live tally lags, and a reconcile pass replays the poll's votes
// from Postgres (retried until Redis answers; also run at start-up and periodically). If
// Redis loses its keys, the next read or vote notices and rebuilds them from Postgres.
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { badRequest, conflict, notFound } from '../errors.js';
import { log, errMessage } from '../logger.js';
import { BuiltinGenerator, type PollGenerator } from './generator.js';
import { MicroBatcher } from './batcher.js';
import { countVotes, getOpenPoll, getPollById, insertVotes, rotatePoll, voteKey, type VoteRow } from './repo.js';
import { TallyRecovery } from './recovery.js';
import { PollStore, pollKeys, type PollKeys } from './store.js';
import { subscribeChannel } from './subscribe.js';
import { buildView, mergeView, resolveOption } from './tally.js';
import type { PollDef, PollDraft, PollEvent, PollView } from './types.js';

const logger = log('POLL');

export interface PollServiceOptions {
  pool: pg.Pool;
  redis: Redis;
  /** A subscriber connection: with it, other processes' votes reach our cached view at once. */
  subscriber?: Redis;
  generator?: PollGenerator;
  /** Redis key names (default: the ones in src/keys.ts). */
  keys?: PollKeys;
  /** How long the in-memory view is served before re-reading Redis (default 1000 ms, 250 without a subscriber). */
  cacheMs?: number;
  /** Most votes in one INSERT (default 1000). */
  maxBatch?: number;
  /** INSERTs in flight at once (default: pool size - 1, at least 1, at most 4). */
  batchConcurrency?: number;
  /** How long a closed poll's Redis keys live (default one day). */
  closedTtlSeconds?: number;
  /** Period of the Redis-vs-Postgres check (default 30 s; 0 turns it off). */
  reconcileMs?: number;
  /**
   * A 24/7 loop of polls: every poll this service opens by itself lasts `durationSeconds`,
   * and `afterEndMs` after one ends (showing its result) the next one opens. Any number of
   * processes may run it: the first to rotate an ended poll wins, the others see it done.
   */
  autoNext?: { durationSeconds: number; afterEndMs?: number; checkMs?: number };
}

export interface VoteResult {
  pollId: number;
  option: string;
  voterId: string;
  poll: PollView;
}

export interface GenerateOptions {
  /** Use this question instead of asking the generator. */
  draft?: PollDraft;
  /** Voting closes after this many seconds (shown as a countdown). */
  durationSeconds?: number;
}

type Outcome = { status: 'accepted'; view: PollView | null } | { status: 'duplicate' } | { status: 'closed' };

export const VOTER_ID_RE = /^[A-Za-z0-9_.:@-]{1,128}$/;

export class PollService {
  readonly store: PollStore;
  private readonly pool: pg.Pool;
  private readonly generator: PollGenerator;
  private readonly cacheMs: number;
  private readonly closedTtl: number;
  private readonly batcher: MicroBatcher<VoteRow, Outcome>;
  private view: PollView | null = null;
  private viewJson: string | null = null;
  private viewAt = 0;
  private refreshing: Promise<PollView | null> | null = null;
  private readonly closedCache = new Map<number, PollView>();
  private readonly recovery: TallyRecovery;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private autoTimer: NodeJS.Timeout | undefined;
  private rotating = false;
  private unsubscribe: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(private readonly opts: PollServiceOptions) {
    this.pool = opts.pool;
    this.store = new PollStore(opts.redis, opts.keys ?? pollKeys());
    this.generator = opts.generator ?? new BuiltinGenerator();
    this.cacheMs = opts.cacheMs ?? (opts.subscriber ? 1000 : 250);
    this.closedTtl = opts.closedTtlSeconds ?? 86_400;
    this.recovery = new TallyRecovery(opts.pool, this.store, {
      closedTtlSeconds: this.closedTtl,
      onRepaired: () => {
        this.viewAt = 0;
      },
    });
    const poolMax = (opts.pool as unknown as { options?: { max?: number } }).options?.max ?? 10;
    this.batcher = new MicroBatcher((items) => this.runBatch(items), {
      maxBatch: opts.maxBatch ?? 1000,
      concurrency: opts.batchConcurrency ?? Math.min(4, Math.max(1, poolMax - 1)),
    });
  }

  /** Subscribes to poll events and starts the periodic Redis-vs-Postgres check. */
  async start(): Promise<void> {
    if (this.opts.subscriber && !this.unsubscribe) {
      this.unsubscribe = await subscribeChannel(this.opts.subscriber, this.store.k.events(), (m) => this.onEvent(m));
    }
    const every = this.opts.reconcileMs ?? 30_000;
    if (every > 0 && !this.reconcileTimer) {
      this.reconcileTimer = setInterval(() => {
        this.reconcile().catch((err) => logger.warn(`poll reconcile failed: ${errMessage(err)}`));
      }, every);
      this.reconcileTimer.unref();
    }
    const auto = this.opts.autoNext;
    if (auto && !this.autoTimer) {
      this.autoTimer = setInterval(() => {
        this.rotateIfEnded().catch((err) => logger.warn(`opening the next poll failed: ${errMessage(err)}`));
      }, auto.checkMs ?? 1000);
      this.autoTimer.unref();
    }
  }

  /** Lets in-flight votes finish, then stops listening. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.reconcileTimer);
    clearInterval(this.autoTimer);
    this.recovery.close();
    await this.batcher.drain();
    await this.unsubscribe?.();
  }

  /** Makes sure a poll is open (creating the first one on a fresh database) and live in Redis. */
  async ensurePoll(): Promise<PollView> {
    let open = await getOpenPoll(this.pool);
    if (!open) {
      const draft = await this.generator.generate();
      const r = await rotatePoll(this.pool, draft, { onlyIfNone: true, endsAt: this.autoEndsAt() });
      if (r.created) return (await this.install(r.created, r.closed)).poll;
      open = r.open;
    }
    if (!(await this.store.read(open.id))) await this.rebuild(open.id);
    await this.recovery.pointCurrentAt(open.id);
    this.viewAt = 0;
    // Votes a crashed process recorded but never counted live: caught up in the background.
    this.reconcile().catch((err) => logger.warn(`poll reconcile failed: ${errMessage(err)}`));
    return (await this.refresh()) ?? buildView(open, {});
  }

  /** The open poll with live counts, from memory (refreshed from Redis every `cacheMs`). */
  async current(): Promise<PollView | null> {
    const age = Date.now() - this.viewAt;
    if (this.viewAt && age < this.cacheMs) return this.view;
    if (this.view && this.viewAt && age < this.cacheMs * 5) {
      // Serve what we have while one request refreshes it.
      this.refresh().catch((err) => logger.warn(`poll refresh failed: ${errMessage(err)}`));
      return this.view;
    }
    return this.refresh();
  }

  /** `current()` already serialised (the JSON is built once per change, not per request). */
  async currentJson(): Promise<string | null> {
    const v = await this.current();
    if (!v) return null;
    if (this.view === v && this.viewJson) return this.viewJson;
    const json = JSON.stringify(v);
    if (this.view === v) this.viewJson = json;
    return json;
  }

  /** Re-reads the current poll from Redis (rebuilding it from Postgres if Redis lost it). */
  refresh(): Promise<PollView | null> {
    if (!this.refreshing) {
      this.refreshing = this.load()
        .then((v) => {
          if (v) this.setView(v, { authoritative: true });
          else this.clearView();
          this.viewAt = Date.now();
          return this.view;
        })
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  /**
   * Records one vote. Throws notFound (no poll), badRequest (unknown option or voter id),
   * conflict (this voter already voted, or the poll has closed).
   */
  async vote(option: string, voterId: string): Promise<VoteResult> {
    if (typeof voterId !== 'string' || !VOTER_ID_RE.test(voterId)) {
      throw badRequest('voterId must be 1-128 characters of A-Z a-z 0-9 _ . : @ -', { field: 'voterId' });
    }
    const poll = await this.current();
    if (!poll) throw notFound('no poll is open');
    if (poll.endsAt && Date.parse(poll.endsAt) <= Date.now()) {
      throw conflict('voting on this poll has ended', { reason: 'poll_closed', pollId: poll.id });
    }
    const opt = resolveOption(poll, String(option));
    if (!opt) {
      throw badRequest(`unknown option "${String(option).slice(0, 60)}"; choose one of ${poll.options.map((o) => o.key).join(', ')}`, {
        field: 'option',
        options: poll.options.map((o) => ({ key: o.key, label: o.label })),
      });
    }
    const out = await this.batcher.submit({ pollId: poll.id, voterId, option: opt.key });
    if (out.status === 'duplicate') {
      throw conflict('you already voted in this poll', { reason: 'already_voted', pollId: poll.id });
    }
    if (out.status === 'closed') {
      this.viewAt = 0;
      throw conflict('this poll has closed; a new poll is open', { reason: 'poll_closed', pollId: poll.id });
    }
    return { pollId: poll.id, option: opt.key, voterId, poll: out.view ?? this.view ?? poll };
  }

  /** Closes the open poll (keeping its final tally) and opens a new one. */
  async generate(opts: GenerateOptions = {}): Promise<{ poll: PollView; closed: PollView | null }> {
    const previous = this.view?.question ?? (await getOpenPoll(this.pool))?.question;
    const draft = opts.draft ?? (await this.generator.generate(previous));
    const endsAt = opts.durationSeconds ? new Date(Date.now() + opts.durationSeconds * 1000) : null;
    const r = await rotatePoll(this.pool, draft, { endsAt });
    return this.install(r.created!, r.closed);
  }

  /**
   * With `autoNext`: if the open poll ended more than `afterEndMs` ago, opens the next one
   * (unless another process just did). Returns the new poll, or null when nothing was due.
   */
  async rotateIfEnded(): Promise<PollView | null> {
    const auto = this.opts.autoNext;
    if (!auto || this.rotating || this.closed) return null;
    const v = await this.current();
    if (!v?.endsAt || Date.parse(v.endsAt) + (auto.afterEndMs ?? 5000) > Date.now()) return null;
    this.rotating = true;
    try {
      const draft = await this.generator.generate(v.question);
      const r = await rotatePoll(this.pool, draft, { endsAt: this.autoEndsAt(), expectOpenId: v.id });
      if (!r.created) {
        this.viewAt = 0; // someone else rotated: pick it up
        return null;
      }
      return (await this.install(r.created, r.closed)).poll;
    } finally {
      this.rotating = false;
    }
  }

  private autoEndsAt(): Date | null {
    const d = this.opts.autoNext?.durationSeconds;
    return d ? new Date(Date.now() + d * 1000) : null;
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

  /**
   * Compares Redis with Postgres for the open poll and replays what Redis is missing
   * (see TallyRecovery.reconcile). True if it repaired something.
   */
  async reconcile(settleMs = 1000): Promise<boolean> {
    const repaired = await this.recovery.reconcile(settleMs);
    if (repaired) this.viewAt = 0;
    return repaired;
  }

  /** Recreates a poll's live keys from Postgres; safe while votes keep arriving. */
  rebuild(pollId: number): Promise<void> {
    return this.recovery.rebuild(pollId);
  }

  private async load(): Promise<PollView | null> {
    const live = await this.store.readCurrent();
    if (live) return buildView(live.def, live.counts);
    // Redis has no current poll, or lost its keys (restart, flush): Postgres knows.
    const open = await getOpenPoll(this.pool);
    if (!open) return null;
    await this.rebuild(open.id);
    await this.recovery.pointCurrentAt(open.id);
    const again = await this.store.readCurrent();
    return again ? buildView(again.def, again.counts) : buildView(open, await countVotes(this.pool, open.id));
  }

  private async install(created: PollDef, closed: PollDef | null): Promise<{ poll: PollView; closed: PollView | null }> {
    await this.store.init(created);
    await this.recovery.pointCurrentAt(created.id);
    let closedView: PollView | null = null;
    if (closed) {
      closedView = buildView(closed, closed.finalTally ?? {});
      this.rememberClosed(closedView);
      await this.store.retire(closed, this.closedTtl);
      logger.info(`poll ${closed.id} closed with ${closedView.total} votes`);
    }
    const poll = buildView(created, {});
    this.setView(poll, { authoritative: true });
    this.viewAt = Date.now();
    logger.info(`poll ${created.id} open: ${created.question}`);
    await this.publish({ type: 'poll', poll, previous: closedView });
    return { poll, closed: closedView };
  }

  private async runBatch(items: VoteRow[]): Promise<Outcome[]> {
    // The same voter twice in one batch: the first goes to the database, the rest are repeats.
    const first = new Map<string, number>();
    const unique: VoteRow[] = [];
    items.forEach((it, i) => {
      const k = voteKey(it.pollId, it.voterId);
      if (!first.has(k)) {
        first.set(k, i);
        unique.push(it);
      }
    });
    const { inserted, openPolls } = await insertVotes(this.pool, unique);
    // Committed: from here on these votes are accepted whatever Redis does.
    const views = new Map<number, PollView | null>();
    const byPoll = new Map<number, VoteRow[]>();
    for (const it of unique) {
      if (!inserted.has(voteKey(it.pollId, it.voterId))) continue;
      const list = byPoll.get(it.pollId) ?? [];
      list.push(it);
      byPoll.set(it.pollId, list);
    }
    for (const [pollId, votes] of byPoll) views.set(pollId, await this.countLive(pollId, votes));
    return items.map((it, i): Outcome => {
      if (!openPolls.has(it.pollId)) return { status: 'closed' };
      const k = voteKey(it.pollId, it.voterId);
      if (first.get(k) === i && inserted.has(k)) return { status: 'accepted', view: views.get(it.pollId) ?? null };
      return { status: 'duplicate' };
    });
  }

  /** Adds committed votes to the live tally and tells everyone; a Redis failure only delays that. */
  private async countLive(pollId: number, votes: VoteRow[]): Promise<PollView | null> {
    try {
      let counts = await this.store.apply(pollId, votes);
      if (counts === null) {
        // Redis lost the keys. A rebuild already under way may have read Postgres before these
        // votes committed, so apply them again afterwards (harmless if already counted).
        await this.rebuild(pollId);
        counts = await this.store.apply(pollId, votes);
        if (counts === null) throw new Error('tally still missing after a rebuild');
      }
      const def = this.view && this.view.id === pollId ? defOf(this.view) : (await this.store.read(pollId))?.def;
      if (!def) return null;
      const view = buildView(def, counts);
      if (this.view && this.view.id === pollId) this.setView(view);
      // Not awaited: the voters need not wait for the fan-out (same connection, so in order).
      void this.publish({ type: 'tally', poll: view });
      return view;
    } catch (err) {
      logger.error(`poll ${pollId}: ${votes.length} recorded votes not yet counted live (Redis: ${errMessage(err)}); will replay from Postgres`);
      this.recovery.markDirty(pollId);
      return null;
    }
  }

  private async publish(event: PollEvent): Promise<void> {
    try {
      await this.store.publish(event);
    } catch (err) {
      logger.warn(`publishing a poll update failed: ${errMessage(err)}`);
    }
  }

  private onEvent(message: string): void {
    const ev = JSON.parse(message) as PollEvent;
    const poll = ev?.poll;
    if (!poll || typeof poll.id !== 'number' || !Array.isArray(poll.options)) return;
    if (ev.type === 'poll') {
      if (ev.previous) this.rememberClosed(ev.previous);
      if (!this.view || poll.id >= this.view.id) {
        this.setView(poll, { authoritative: true });
        this.viewAt = Date.now();
      }
    } else if (ev.type === 'tally' && this.view && poll.id === this.view.id) {
      this.setView(poll);
      this.viewAt = Date.now();
    }
  }

  private setView(update: PollView, opts: { authoritative?: boolean } = {}): void {
    const next = mergeView(this.view, update, { replace: !!opts.authoritative && (!this.view || update.id !== this.view.id) });
    if (next !== this.view) {
      this.view = next;
      this.viewJson = null;
    }
  }

  private clearView(): void {
    this.view = null;
    this.viewJson = null;
  }

  private rememberClosed(view: PollView): void {
    this.closedCache.set(view.id, view);
    if (this.closedCache.size > 100) this.closedCache.delete(this.closedCache.keys().next().value!);
  }
}

function defOf(v: PollView): PollDef {
  return {
    id: v.id,
    question: v.question,
    options: v.options.map((o) => ({ key: o.key, label: o.label })),
    createdAt: v.createdAt,
    endsAt: v.endsAt,
    closedAt: v.closedAt,
  };
}
