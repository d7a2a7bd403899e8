// The 24/7 poll show: voting with a countdown → closed → the winner revealed → the next poll
// (the queue's head, else the generator, which falls back to the bank). One web node at a time
// drives it, the holder of a Redis lease (`sf:poll:show:lease`, renewed every tick, taken over
// by another node within `leaseMs` when its holder dies). The loop keeps no state of its own:
// each tick reads the newest poll from Postgres and does what its times say is due, and every
// step is a Postgres transaction that checks the poll is still the one it expects. So a
// restart of any process resumes where the record says the show is, and two nodes that both
// believe they lead (a lease lost in a pause) still change the poll once.
import crypto from 'node:crypto';
import os from 'node:os';
import type pg from 'pg';
import { defineScripts } from '../redis/index.js';
import { log, errMessage } from '../logger.js';
import { BuiltinGenerator, type PollGenerator } from './generator.js';
import type { PollLiveView } from './live-view.js';
import type { PollRotation } from './rotation.js';
import { closeForReveal, getLatestPoll, openNext, queueLength } from './show-repo.js';
import type { PollStore } from './store.js';
import { buildView } from './tally.js';
import type { PollDef, PollView } from './types.js';

const logger = log('POLL');

export interface ShowOptions {
  /** How long each poll takes votes (POLL_DURATION_SECONDS; 0: until closed by hand). */
  durationSeconds: number;
  /** How long the winner is revealed (REVEAL_SECONDS). */
  revealSeconds: number;
  /** "VOTING CLOSED" on air before the reveal starts (default 1500 ms). */
  closedMs?: number;
  /** Period of the loop (default 250 ms). */
  tickMs?: number;
  /** Lease lifetime (default 5000 ms). */
  leaseMs?: number;
  /** This node's name in the lease (default host-pid-random). */
  nodeId?: string;
}

export interface PollShowDeps {
  pool: pg.Pool;
  store: PollStore;
  live: PollLiveView;
  rotation: PollRotation;
  generator: PollGenerator;
  closedTtlSeconds: number;
}

/** What happened in one step of the loop (for tests and logs). */
export type ShowStep = 'idle' | 'closed' | 'opened' | 'lost-race';

export class PollShow {
  readonly nodeId: string;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private leading = false;
  private stopped = false;
  private failing = false;
  private readonly bank = new BuiltinGenerator();

  constructor(
    private readonly d: PollShowDeps,
    readonly opts: ShowOptions,
  ) {
    this.nodeId = opts.nodeId ?? `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 250);
    this.timer.unref();
    void this.tick();
  }

  /** Stops the loop and hands the lease back at once, so another node takes over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.leading) {
      this.leading = false;
      await defineScripts(this.d.store.redis)
        .leaseRelease([this.d.store.k.showLease()], [this.nodeId])
        .catch(() => undefined);
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** One tick: renew or take the lease, and if this node leads, do what is due. */
  async tick(): Promise<ShowStep> {
    if (this.busy || this.stopped) return 'idle';
    this.busy = true;
    try {
      const held = await defineScripts(this.d.store.redis).leaseHold([this.d.store.k.showLease()], [this.nodeId, this.opts.leaseMs ?? 5000]);
      if (!!held !== this.leading) logger.info(`${held ? 'this node runs' : 'another node runs'} the poll show (${this.nodeId})`);
      this.leading = held === 1;
      const step = this.leading ? await this.step() : 'idle';
      if (this.failing) logger.info('the poll show runs again');
      this.failing = false;
      return step;
    } catch (err) {
      if (!this.failing) logger.warn(`the poll show could not move on: ${errMessage(err)}`);
      this.failing = true;
      return 'idle';
    } finally {
      this.busy = false;
    }
  }

  /** What the record says is due now: close an ended poll, or open the next after a reveal. */
  async step(now = Date.now()): Promise<ShowStep> {
    const latest = await getLatestPoll(this.d.pool);
    if (!latest) return (await this.next(null)) ? 'opened' : 'lost-race';
    if (!latest.closedAt) {
      if (!latest.endsAt || Date.parse(latest.endsAt) > now) return 'idle';
      return (await this.close(latest.id)) ? 'closed' : 'lost-race';
    }
    if (latest.revealUntil && Date.parse(latest.revealUntil) > now) return 'idle';
    return (await this.next(latest)) ? 'opened' : 'lost-race';
  }

  /** Closes the open poll now (whatever its countdown says) into its reveal. null: none was open. */
  async closeNow(): Promise<PollView | null> {
    const latest = await getLatestPoll(this.d.pool);
    if (!latest || latest.closedAt) return null;
    return this.close(latest.id);
  }

  private async close(id: number): Promise<PollView | null> {
    const { store, live } = this.d;
    const def = await closeForReveal(this.d.pool, id, { closedMs: this.opts.closedMs ?? 1500, revealMs: this.opts.revealSeconds * 1000 });
    if (!def) {
      live.invalidate();
      return null;
    }
    // The definition in Redis now carries the close; the tally keys stay for the reveal.
    await store.init(def);
    await store.retire(def, this.d.closedTtlSeconds);
    const view = buildView(def, def.finalTally ?? {});
    live.apply(view, { authoritative: true });
    await store.tell({ type: 'closed', poll: view });
    const w = view.winner;
    logger.info(`poll ${id} closed with ${view.total} votes: ${!w ? 'no votes' : w.tie ? `a tie of ${w.labels.join(', ')}` : `${w.labels[0]} wins`}`);
    return view;
  }

  private async next(closed: PollDef | null): Promise<PollView | null> {
    // The generator may call a remote model: ask it outside the lock, and only when the queue is empty.
    const queued = await queueLength(this.d.pool);
    const fallback = queued > 0 ? await this.bank.generate(closed?.question) : await this.d.generator.generate(closed?.question);
    const r = await openNext(this.d.pool, closed?.id ?? null, { fallback, durationSeconds: this.opts.durationSeconds });
    if (!r) {
      this.d.live.invalidate();
      return null;
    }
    if (r.fromQueue) logger.info(`poll from the queue (#${r.fromQueue.id}) goes on air`);
    return (await this.d.rotation.install(r.created, closed)).poll;
  }
}
