// The one read model of the open poll in a process: the web's poll service, the socket relay
// and (in a worker) every poll stream's render thread read it; nobody else rebuilds the view.
//
// It subscribes once to the poll events channel and merges tally updates (counts only grow,
// so updates from several processes may arrive in any order), takes a new poll at once and
// rereads Redis behind it, and rereads Redis after the subscriber reconnects (messages may
// have been missed) and every `refreshMs` as a safety net. When Redis has no current poll,
// `missing` (the web's service: Postgres knows) may restore it; a worker has no database and
// simply shows no poll until the web restores it.
import { log, errMessage } from '../logger.js';
import { logOnce, type Subscriber, type Unsubscribe } from '../redis/index.js';
import type { PollStore } from './store.js';
import { buildView, mergeView } from './tally.js';
import type { PollEvent, PollView } from './types.js';

const logger = log('POLL');

/** What readers of the live poll need: the view now, and every change to it. */
export interface PollReader {
  current(): PollView | null;
  /** `fn` runs on every change (with the closed poll when a new one replaced it). Returns unsubscribe. */
  subscribe(fn: PollListener): () => void;
}

export type PollListener = (view: PollView | null, previous?: PollView | null) => void;

export interface PollLiveViewOptions {
  store: PollStore;
  /** The process's subscriber: without it, other processes' changes arrive with the periodic reread only. */
  subscriber?: Subscriber;
  /** Period of the safety-net reread, and how long `fresh()` trusts the view (default 1000 ms; 0: no timer). */
  refreshMs?: number;
  /** Redis has no current poll: restore it from the record and return it (or null: there is none). */
  missing?: () => Promise<PollView | null>;
}

export class PollLiveView implements PollReader {
  private view: PollView | null = null;
  /** When the view was last read from Redis (0: never, or invalidated). */
  private loadedAt = 0;
  /** The read in flight, and the invalidation it began after (a later invalidation needs a new read). */
  private reading: { done: Promise<PollView | null>; after: number } | null = null;
  private invalidations = 0;
  /** Counts views taken as a whole (a new poll, a reread): a reread that raced one keeps it. */
  private generation = 0;
  private readonly listeners = new Set<PollListener>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: Unsubscribe | undefined;
  private offReady: (() => void) | undefined;
  // The view stays as it is while Redis is away; say so once.
  private readonly outage = logOnce({
    warn: (msg) => logger.warn(`rereading the current poll ${msg}`),
    recovered: () => logger.info('reading the current poll works again'),
  });
  private closed = false;
  private readonly refreshMs: number;
  private readonly onReconnect = () => this.background('after a reconnect');

  constructor(private readonly opts: PollLiveViewOptions) {
    this.refreshMs = opts.refreshMs ?? 1000;
  }

  /** Subscribes to the events channel, reads the poll once, and starts the safety-net timer. */
  async start(): Promise<void> {
    const sub = this.opts.subscriber;
    if (sub && !this.unsubscribe) {
      this.unsubscribe = await sub.subscribe(this.opts.store.k.events(), (m) => this.onMessage(m.toString()));
      this.offReady = sub.onReady(this.onReconnect);
    }
    if (this.refreshMs > 0 && !this.timer) {
      this.timer = setInterval(() => this.background('periodic'), this.refreshMs);
      this.timer.unref();
    }
    await this.refresh().catch((err) => logger.warn(`reading the current poll failed: ${errMessage(err)}`));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.offReady?.();
    this.listeners.clear();
    // (A subscriber that is away does not hold this up: the router does not wait for it then.)
    await this.unsubscribe?.();
  }

  current(): PollView | null {
    return this.view;
  }

  subscribe(fn: PollListener): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  /**
   * The view, reread first when it is older than `maxAgeMs` (default `refreshMs`) or was
   * invalidated. A view up to five times too old is served while one reread runs behind it.
   */
  async fresh(maxAgeMs = this.refreshMs || 1000): Promise<PollView | null> {
    const age = Date.now() - this.loadedAt;
    if (this.loadedAt && age < maxAgeMs) return this.view;
    if (this.loadedAt && this.view && age < maxAgeMs * 5) {
      this.background('stale');
      return this.view;
    }
    return this.refresh();
  }

  /** The view may be wrong (a repair, a lost race): the next `fresh()` rereads, and a reread starts now. */
  invalidate(): void {
    this.loadedAt = 0;
    this.invalidations += 1;
    this.background('invalidated');
  }

  /**
   * Rereads the current poll from Redis. Callers share the read in flight, unless the view was
   * invalidated after it began: then a new read follows it.
   */
  refresh(): Promise<PollView | null> {
    const r = this.reading;
    if (r && r.after === this.invalidations) return r.done;
    if (r) return r.done.catch(() => null).then(() => this.refresh());
    const after = this.invalidations;
    const done = this.read(after).finally(() => {
      this.reading = null;
    });
    this.reading = { done, after };
    return done;
  }

  /** This process changed the poll (opened one, counted votes): show it without waiting for the echo. */
  apply(update: PollView, opts: { authoritative?: boolean; previous?: PollView | null } = {}): void {
    const replace = !!opts.authoritative && (!this.view || update.id !== this.view.id);
    if (opts.authoritative) {
      this.loadedAt = Date.now();
      this.generation += 1;
    }
    this.show(mergeView(this.view, update, { replace }), opts.previous);
  }

  private async read(after: number): Promise<PollView | null> {
    const started = this.generation;
    const live = await this.opts.store.readCurrent();
    let view = live ? buildView(live.def, live.counts) : null;
    if (!view && this.opts.missing) view = await this.opts.missing();
    if (after === this.invalidations) this.loadedAt = Date.now();
    // A new poll arrived while we read: what we read may be the one it replaced.
    if (started !== this.generation && this.view && (!view || view.id < this.view.id)) return this.view;
    this.generation += 1;
    if (!view) this.show(null);
    else this.show(mergeView(this.view, view, { replace: !this.view || view.id !== this.view.id }));
    return this.view;
  }

  private background(why: string): void {
    if (this.closed) return;
    this.refresh().then(
      () => this.outage.ok(),
      (err) => this.outage.fail(`(${why}) failed: ${errMessage(err)}`),
    );
  }

  private onMessage(message: string): void {
    const ev = JSON.parse(message) as PollEvent;
    const poll = ev?.poll;
    if (!poll || typeof poll.id !== 'number' || !Array.isArray(poll.options)) return;
    if (ev.type === 'poll') {
      if (this.view && poll.id < this.view.id) return;
      this.apply(poll, { authoritative: true, previous: ev.previous });
      // Votes counted between the event and now are in Redis only.
      this.background('new poll');
    } else if (ev.type === 'tally' || ev.type === 'closed') {
      if (this.view && poll.id === this.view.id) this.show(mergeView(this.view, poll));
      else if (!this.view || poll.id > this.view.id) this.background('unknown poll'); // we missed its 'poll' event
    }
  }

  private show(next: PollView | null, previous?: PollView | null): void {
    if (next === this.view) return;
    this.view = next;
    for (const fn of this.listeners) {
      try {
        fn(next, previous);
      } catch (err) {
        logger.warn(`a poll listener failed: ${errMessage(err)}`);
      }
    }
  }
}
