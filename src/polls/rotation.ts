// Which poll is open: the first one on a fresh database, a new one on request (closing the
// open one with its final tally), and with `autoNext` a 24/7 loop where each poll lasts
// `durationSeconds` and the next opens `afterEndMs` after it ended. Any number of processes
// may run the loop: Postgres decides (rotatePoll), the first to rotate an ended poll wins.
// The show (polls/show.ts: countdown, reveal, queue) supersedes `autoNext` in the service;
// `install` is how both put what Postgres decided on air.
import type pg from 'pg';
import { log, errMessage } from '../logger.js';
import type { PollGenerator } from './generator.js';
import type { PollLiveView } from './live-view.js';
import type { TallyRecovery } from './recovery.js';
import { getOpenPoll, rotatePoll } from './repo.js';
import { getLatestPoll } from './show-repo.js';
import type { PollStore } from './store.js';
import { buildView } from './tally.js';
import type { PollDef, PollDraft, PollView } from './types.js';

const logger = log('POLL');

export interface GenerateOptions {
  /** Use this question instead of asking the generator. */
  draft?: PollDraft;
  /** Voting closes after this many seconds (shown as a countdown). */
  durationSeconds?: number;
}

export interface AutoNext {
  durationSeconds: number;
  afterEndMs?: number;
  checkMs?: number;
}

export interface PollRotationDeps {
  pool: pg.Pool;
  store: PollStore;
  live: PollLiveView;
  recovery: TallyRecovery;
  generator: PollGenerator;
  /** How long a closed poll's Redis keys live. */
  closedTtlSeconds: number;
  autoNext?: AutoNext;
  /** How long the first poll on a fresh database lasts without `autoNext` (0 or unset: no end). */
  durationSeconds?: number;
}

export class PollRotation {
  private autoTimer: NodeJS.Timeout | undefined;
  private rotating = false;
  private closed = false;

  constructor(private readonly d: PollRotationDeps) {}

  /** With `autoNext`: checks every `checkMs` whether the open poll is due to be replaced. */
  start(): void {
    const auto = this.d.autoNext;
    if (!auto || this.autoTimer || this.closed) return;
    this.autoTimer = setInterval(() => {
      this.rotateIfEnded().catch((err) => logger.warn(`opening the next poll failed: ${errMessage(err)}`));
    }, auto.checkMs ?? 1000);
    this.autoTimer.unref();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.autoTimer);
  }

  /** Makes sure a poll is open (creating the first one on a fresh database) and live in Redis. */
  async ensurePoll(): Promise<PollView> {
    const { pool, store, recovery, live } = this.d;
    let open = await getOpenPoll(pool);
    const latest = open ? null : await getLatestPoll(pool);
    if (latest?.revealUntil && Date.parse(latest.revealUntil) > Date.now()) {
      // A restart during a winner reveal: the closed poll stays on air until the show moves on.
      if (!(await store.read(latest.id))) await recovery.rebuild(latest.id);
      await store.setCurrent(latest.id);
      live.invalidate();
      return (await live.refresh()) ?? buildView(latest, latest.finalTally ?? {});
    }
    if (!open) {
      const draft = await this.d.generator.generate();
      const r = await rotatePoll(pool, draft, { onlyIfNone: true, endsAt: this.autoEndsAt() });
      if (r.created) return (await this.install(r.created, r.closed)).poll;
      open = r.open;
    }
    if (!(await store.read(open.id))) await recovery.rebuild(open.id);
    await recovery.pointCurrentAt(open.id);
    live.invalidate();
    // Votes a crashed process recorded but never counted live: caught up in the background.
    recovery.reconcile().catch((err) => logger.warn(`poll reconcile failed: ${errMessage(err)}`));
    return (await live.refresh()) ?? buildView(open, {});
  }

  /** Closes the open poll (keeping its final tally) and opens a new one. */
  async generate(opts: GenerateOptions = {}): Promise<{ poll: PollView; closed: PollView | null }> {
    const previous = this.d.live.current()?.question ?? (await getOpenPoll(this.d.pool))?.question;
    const draft = opts.draft ?? (await this.d.generator.generate(previous));
    const endsAt = opts.durationSeconds ? new Date(Date.now() + opts.durationSeconds * 1000) : null;
    const r = await rotatePoll(this.d.pool, draft, { endsAt });
    return this.install(r.created!, r.closed);
  }

  /**
   * With `autoNext`: if the open poll ended more than `afterEndMs` ago, opens the next one
   * (unless another process just did). Returns the new poll, or null when nothing was due.
   */
  async rotateIfEnded(): Promise<PollView | null> {
    const auto = this.d.autoNext;
    if (!auto || this.rotating || this.closed) return null;
    const v = await this.d.live.fresh();
    if (!v?.endsAt || Date.parse(v.endsAt) + (auto.afterEndMs ?? 5000) > Date.now()) return null;
    this.rotating = true;
    try {
      const draft = await this.d.generator.generate(v.question);
      const r = await rotatePoll(this.d.pool, draft, { endsAt: this.autoEndsAt(), expectOpenId: v.id });
      if (!r.created) {
        this.d.live.invalidate(); // someone else rotated: pick it up
        return null;
      }
      return (await this.install(r.created, r.closed)).poll;
    } finally {
      this.rotating = false;
    }
  }

  private autoEndsAt(): Date | null {
    const s = this.d.autoNext?.durationSeconds ?? this.d.durationSeconds;
    return s ? new Date(Date.now() + s * 1000) : null;
  }

  /** Puts a poll Postgres just opened live in Redis, retires the closed one, and tells everyone. */
  async install(created: PollDef, closed: PollDef | null): Promise<{ poll: PollView; closed: PollView | null }> {
    const { store, recovery, live } = this.d;
    await store.init(created);
    await recovery.pointCurrentAt(created.id);
    let closedView: PollView | null = null;
    if (closed) {
      closedView = buildView(closed, closed.finalTally ?? {});
      await store.retire(closed, this.d.closedTtlSeconds);
      logger.info(`poll ${closed.id} closed with ${closedView.total} votes`);
    }
    const poll = buildView(created, {});
    live.apply(poll, { authoritative: true, previous: closedView });
    logger.info(`poll ${created.id} open: ${created.question}`);
    await store.tell({ type: 'poll', poll, previous: closedView });
    return { poll, closed: closedView };
  }
}
