// Votes over socket.io: `vote:cast` goes to the poll service (atomic live tally in Redis), and
// `poll:update` reaches every client of this node at most every `everyMs` (10/s by default):
// any message on the poll events channel, or a vote taken here, marks the poll dirty; the
// flush reads one fresh snapshot and emits it once to all local sockets.
import { AppError } from '../errors.js';
import { log, errMessage } from '../logger.js';
import { RtError, type PollView, type RtServer } from './protocol.js';

const logger = log('REALTIME');

/**
 * What the realtime layer needs from the poll service (src/polls/service.ts PollService
 * satisfies it as is).
 */
export interface PollPort {
  /** The current poll, or null; any of the shapes toPollView understands. */
  current(): Promise<unknown>;
  /**
   * Count one vote atomically. Rejects with an AppError: 404 no poll, 400 with
   * `details.field === 'option'` an invalid option, any other 4xx a refusal (already voted,
   * poll closed) whose message the voter sees.
   */
  vote(option: string, voterId: string): Promise<unknown>;
}

const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) || 0 : 0);

/**
 * Tolerant reader of a poll snapshot: options as strings or objects ({id|key|label|text|name,
 * votes|count}), counts in `counts`, `tally`, `votes` or `results` (object or array).
 */
export function toPollView(raw: unknown): PollView | null {
  if (!raw || typeof raw !== 'object') return null;
  const p = raw as Record<string, unknown>;
  const options: string[] = [];
  const labels: Record<string, string> = {};
  const counts: Record<string, number> = {};
  for (const o of Array.isArray(p.options) ? p.options : []) {
    if (typeof o === 'string') options.push(o);
    else if (o && typeof o === 'object') {
      const r = o as Record<string, unknown>;
      const id = String(r.id ?? r.key ?? r.option ?? r.label ?? r.text ?? r.name ?? '');
      if (!id) continue;
      options.push(id);
      labels[id] = String(r.label ?? r.text ?? r.name ?? id);
      if ('votes' in r || 'count' in r) counts[id] = num(r.votes ?? r.count);
    }
  }
  const tally = p.counts ?? p.tally ?? p.votes ?? p.results;
  if (tally && typeof tally === 'object' && !Array.isArray(tally)) {
    for (const [k, v] of Object.entries(tally as Record<string, unknown>)) counts[k] = num(v);
  }
  for (const k of Object.keys(counts)) if (!options.includes(k)) options.push(k);
  if (!options.length) return null;
  for (const o of options) {
    counts[o] ??= 0;
    labels[o] ??= o;
  }
  const total = options.reduce((n, o) => n + counts[o], 0);
  const endsAt = typeof p.endsAt === 'string' ? p.endsAt : null;
  return { id: String(p.id ?? p.pollId ?? ''), question: String(p.question ?? p.title ?? ''), options, labels, counts, total, endsAt };
}

export class VoteRelay {
  private snapshot: PollView | null = null;
  private loaded: Promise<PollView | null> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private lastSent = '';
  private flushing = false;
  private dirty = false;
  private readonly refresher: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly io: RtServer,
    private readonly polls: PollPort,
    private readonly everyMs: number,
  ) {
    // Without any event (a poll service that does not publish), still refresh now and then.
    this.refresher = setInterval(() => this.markDirty(), 5000);
    this.refresher.unref();
  }

  /** The latest snapshot (loads it once when there is none yet). */
  async current(): Promise<PollView | null> {
    if (this.snapshot) return this.snapshot;
    this.loaded ??= this.polls
      .current()
      .then((p) => (this.snapshot = toPollView(p)))
      .finally(() => (this.loaded = null));
    return this.loaded;
  }

  async cast(option: string, voterId: string): Promise<void> {
    try {
      await this.polls.vote(option, voterId);
    } catch (err) {
      throw toVoteError(err);
    }
    this.markDirty();
  }

  /** Something changed (an event on the poll channel, a vote here): flush soon, coalesced. */
  markDirty(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.timer || this.flushing) return;
    const wait = Math.max(0, this.lastFlush + this.everyMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, wait);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    this.dirty = false;
    this.lastFlush = Date.now();
    try {
      this.snapshot = toPollView(await this.polls.current());
      const json = JSON.stringify(this.snapshot);
      if (json !== this.lastSent) this.io.local.emit('poll:update', { poll: this.snapshot });
      this.lastSent = json;
    } catch (err) {
      logger.warn(`poll snapshot: ${errMessage(err)}`);
    } finally {
      this.flushing = false;
      if (this.dirty) this.markDirty();
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.refresher);
    if (this.timer) clearTimeout(this.timer);
  }
}

/** The poll service's refusal as the voter hears it. */
export function toVoteError(err: unknown): RtError {
  if (err instanceof AppError && err.status < 500) {
    if (err.status === 404) return new RtError('no_poll', err.message);
    const field = (err.details as { field?: unknown } | undefined)?.field;
    if (err.status === 400 && field === 'option') return new RtError('invalid_option', err.message);
    return new RtError('vote_rejected', err.message);
  }
  logger.warn(`vote failed: ${errMessage(err)}`);
  return new RtError('unavailable', 'the vote could not be counted; try again');
}
