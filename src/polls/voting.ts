// Votes: checked against the live view, recorded in PostgreSQL (votes of concurrent requests
// share one multi-row INSERT), then counted in the Redis tally and published.
//
// Durability: a vote is answered "accepted" only after the INSERT that records it has
// committed. Redis is updated after that, idempotently per voter; if Redis fails at that
// moment the vote stays accepted and recorded, the live tally lags, and TallyRecovery replays
// the poll's votes from Postgres (retried until Redis answers). If Redis lost its keys, the
// vote notices, rebuilds them from Postgres and counts again.
import type pg from 'pg';
import { badRequest, conflict, notFound } from '../errors.js';
import { log, errMessage } from '../logger.js';
import { MicroBatcher } from './batcher.js';
import type { PollLiveView } from './live-view.js';
import type { TallyRecovery } from './recovery.js';
import { insertVotes, voteKey, type VoteRow } from './repo.js';
import type { PollStore } from './store.js';
import { buildView, defOfView, resolveOption } from './tally.js';
import type { PollView } from './types.js';

const logger = log('POLL');

export const VOTER_ID_RE = /^[A-Za-z0-9_.:@-]{1,128}$/;

export interface VoteResult {
  pollId: number;
  option: string;
  voterId: string;
  poll: PollView;
}

export interface PollVotingDeps {
  pool: pg.Pool;
  store: PollStore;
  live: PollLiveView;
  recovery: TallyRecovery;
  /** Most votes in one INSERT (default 1000). */
  maxBatch?: number;
  /** INSERTs in flight at once (default: pool size - 1, at least 1, at most 4). */
  batchConcurrency?: number;
}

type Outcome = { status: 'accepted'; view: PollView | null } | { status: 'duplicate' } | { status: 'closed' };

export class PollVoting {
  private readonly batcher: MicroBatcher<VoteRow, Outcome>;

  constructor(private readonly d: PollVotingDeps) {
    const poolMax = (d.pool as unknown as { options?: { max?: number } }).options?.max ?? 10;
    this.batcher = new MicroBatcher((items) => this.runBatch(items), {
      maxBatch: d.maxBatch ?? 1000,
      concurrency: d.batchConcurrency ?? Math.min(4, Math.max(1, poolMax - 1)),
    });
  }

  /** Lets the votes in flight finish. */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  /**
   * Records one vote. Throws notFound (no poll), badRequest (unknown option or voter id),
   * conflict (this voter already voted, or the poll has closed).
   */
  async vote(option: string, voterId: string): Promise<VoteResult> {
    if (typeof voterId !== 'string' || !VOTER_ID_RE.test(voterId)) {
      throw badRequest('voterId must be 1-128 characters of A-Z a-z 0-9 _ . : @ -', { field: 'voterId' });
    }
    const poll = await this.d.live.fresh();
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
      this.d.live.invalidate(); // another process rotated: pick the new poll up
      throw conflict('this poll has closed; a new poll is open', { reason: 'poll_closed', pollId: poll.id });
    }
    return { pollId: poll.id, option: opt.key, voterId, poll: out.view ?? this.d.live.current() ?? poll };
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
    const { inserted, openPolls } = await insertVotes(this.d.pool, unique);
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
    const { store, live, recovery } = this.d;
    try {
      let counts = await store.apply(pollId, votes);
      if (counts === null) {
        // Redis lost the keys. A rebuild already under way may have read Postgres before these
        // votes committed, so apply them again afterwards (harmless if already counted).
        await recovery.rebuild(pollId);
        counts = await store.apply(pollId, votes);
        if (counts === null) throw new Error('tally still missing after a rebuild');
      }
      const shown = live.current();
      const def = shown && shown.id === pollId ? defOfView(shown) : (await store.read(pollId))?.def;
      if (!def) return null;
      const view = buildView(def, counts);
      if (shown && shown.id === pollId) live.apply(view);
      // Not awaited: the voters need not wait for the fan-out (same connection, so in order).
      void store.tell({ type: 'tally', poll: view });
      return view;
    } catch (err) {
      logger.error(`poll ${pollId}: ${votes.length} recorded votes not yet counted live (Redis: ${errMessage(err)}); will replay from Postgres`);
      recovery.markDirty(pollId);
      return null;
    }
  }
}
