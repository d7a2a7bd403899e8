// Keeps Redis's live tallies in line with Postgres, the record: rebuilds a poll's keys when
// Redis lost them, replays votes Redis missed (a Redis error or a crash right after the
// INSERT committed), and keeps `sf:poll:current` pointing at the open poll. Every repair is
// a replay of votes from Postgres through the same per-voter idempotent script live votes
// use, so it is safe while votes keep arriving, from any number of processes.
import type pg from 'pg';
import { log, errMessage } from '../logger.js';
import { countVotes, getOpenPoll, getPollById, totalVotes, votesOf } from './repo.js';
import { getLatestPoll } from './show-repo.js';
import type { PollStore } from './store.js';
import { buildView } from './tally.js';
import type { PollView } from './types.js';

const logger = log('POLL');

export class TallyRecovery {
  private readonly rebuilding = new Map<number, Promise<void>>();
  private readonly dirty = new Set<number>();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly store: PollStore,
    private readonly opts: { closedTtlSeconds: number; onRepaired: () => void },
  ) {}

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  /**
   * Compares Redis with Postgres for the open poll and replays the votes Redis is missing.
   * Postgres is counted first and Redis after a pause, so votes in flight between the two
   * (committed, not yet counted live) do not look like losses. True if it repaired something.
   */
  async reconcile(settleMs = 1000): Promise<boolean> {
    const open = await getOpenPoll(this.pool);
    if (!open) return false;
    const currentId = await this.store.currentId();
    if (currentId !== open.id) {
      logger.warn(`Redis points at poll ${currentId ?? '(none)'} but poll ${open.id} is open: repairing`);
      await this.rebuild(open.id);
      await this.pointCurrentAt(open.id);
      this.opts.onRepaired();
      return true;
    }
    const inDb = await totalVotes(this.pool, open.id);
    if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
    const live = await this.store.read(open.id);
    const inRedis = live ? await this.store.voterCount(open.id) : -1;
    if (inRedis >= inDb) return false;
    logger.warn(`poll ${open.id}: Redis counts ${Math.max(inRedis, 0)} voters, Postgres ${inDb}: rebuilding`);
    await this.rebuild(open.id);
    this.opts.onRepaired();
    return true;
  }

  /** Recreates a poll's live keys from Postgres (one rebuild per poll at a time in this process). */
  rebuild(pollId: number): Promise<void> {
    let p = this.rebuilding.get(pollId);
    if (!p) {
      p = this.doRebuild(pollId).finally(() => this.rebuilding.delete(pollId));
      this.rebuilding.set(pollId, p);
    }
    return p;
  }

  /** Redis has no current poll (a restart, a flush): rebuild the open one from Postgres. null: none is open. */
  async restoreCurrent(): Promise<PollView | null> {
    let open = await getOpenPoll(this.pool);
    if (!open) {
      // Between polls, the one whose winner is being revealed is still on air.
      const latest = await getLatestPoll(this.pool);
      if (!latest?.revealUntil || Date.parse(latest.revealUntil) <= Date.now()) return null;
      open = latest;
    }
    await this.rebuild(open.id);
    await this.pointCurrentAt(open.id);
    const again = await this.store.readCurrent();
    return again ? buildView(again.def, again.counts) : buildView(open, await countVotes(this.pool, open.id));
  }

  /** Sets Redis's current pointer, then checks Postgres still agrees (another process may have rotated meanwhile). */
  async pointCurrentAt(id: number): Promise<void> {
    let want = id;
    for (let i = 0; i < 5; i++) {
      await this.store.setCurrent(want);
      const open = await getOpenPoll(this.pool);
      if (!open || open.id === want) return;
      if (!(await this.store.read(open.id))) await this.rebuild(open.id);
      want = open.id;
    }
  }

  /** Recorded votes of this poll may be missing from Redis: replay them, retrying until Redis answers. */
  markDirty(pollId: number): void {
    this.dirty.add(pollId);
    if (this.retryTimer || this.closed) return;
    const retry = () => {
      this.retryTimer = undefined;
      Promise.all([...this.dirty].map((id) => this.rebuild(id)))
        .then(() => this.opts.onRepaired())
        .catch((err) => {
          logger.warn(`replaying votes into Redis failed, retrying: ${errMessage(err)}`);
          if (!this.closed) this.retryTimer = setTimeout(retry, 2000);
        });
    };
    this.retryTimer = setTimeout(retry, 500);
  }

  private async doRebuild(pollId: number): Promise<void> {
    const t0 = Date.now();
    const def = await getPollById(this.pool, pollId);
    if (!def) throw new Error(`poll ${pollId} does not exist`);
    for (let attempt = 0; attempt < 3; attempt++) {
      const fresh = await this.store.init(def);
      let replayed = 0;
      let lost = false;
      for await (const page of votesOf(this.pool, pollId)) {
        // Replaying a vote that is already counted changes nothing (the voter is in the set).
        if ((await this.store.apply(pollId, page)) === null) {
          lost = true;
          break;
        }
        replayed += page.length;
      }
      if (lost) continue;
      if (def.closedAt) await this.store.retire(def, this.opts.closedTtlSeconds);
      else if ((await this.store.currentId()) === null) await this.pointCurrentAt(def.id);
      this.dirty.delete(pollId);
      logger.info(`poll ${pollId}: live tally rebuilt from Postgres (${replayed} votes, ${fresh ? 'keys were missing' : 'keys kept'}) in ${Date.now() - t0} ms`);
      return;
    }
    throw new Error(`poll ${pollId}: Redis keys keep disappearing during the rebuild`);
  }
}
