// Votes over socket.io: `vote:cast` goes to the poll service (recorded, then counted live in
// Redis), and `poll:update` reaches every client of this node at most every `everyMs` (10/s by
// default): every change of the live poll view (a vote here or on another node, a new poll)
// marks it dirty, and the flush emits the view as it is then, once, to all local sockets.
import { AppError } from '../errors.js';
import { log, errMessage } from '../logger.js';
import type { PollReader } from '../polls/live-view.js';
import type { PollView } from '../polls/types.js';
import { RtError, type RtServer, type WirePoll } from './protocol.js';

const logger = log('REALTIME');

/** What the realtime layer needs from polls (src/polls/service.ts PollService satisfies it as is). */
export interface PollPort {
  /** The process's live poll view: the poll now, and every change to it. */
  readonly live: PollReader;
  /**
   * Count one vote. Rejects with an AppError: 404 no poll, 400 with `details.field ===
   * 'option'` an invalid option, any other 4xx a refusal (already voted, poll closed) whose
   * message the voter sees.
   */
  vote(option: string, voterId: string): Promise<{ pollId: number; option: string }>;
}

/** The poll as the vote widget gets it (the socket contract: option keys, labels and counts by key). */
export function toWirePoll(view: PollView | null): WirePoll | null {
  if (!view) return null;
  const labels: Record<string, string> = {};
  const counts: Record<string, number> = {};
  for (const o of view.options) {
    labels[o.key] = o.label;
    counts[o.key] = o.votes;
  }
  return { id: String(view.id), question: view.question, options: view.options.map((o) => o.key), labels, counts, total: view.total, endsAt: view.endsAt };
}

export class VoteRelay {
  private wire: { of: PollView | null; poll: WirePoll | null } = { of: null, poll: null };
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private lastSent = '';
  private closed = false;
  private readonly off: () => void;

  constructor(
    private readonly io: RtServer,
    private readonly polls: PollPort,
    private readonly everyMs: number,
  ) {
    this.off = polls.live.subscribe(() => this.markDirty());
  }

  /** The poll now, as clients get it. */
  current(): WirePoll | null {
    const view = this.polls.live.current();
    if (this.wire.of !== view) this.wire = { of: view, poll: toWirePoll(view) };
    return this.wire.poll;
  }

  async cast(option: string, voterId: string): Promise<void> {
    try {
      await this.polls.vote(option, voterId);
    } catch (err) {
      throw toVoteError(err);
    }
  }

  /** The poll changed: flush soon, coalesced to one emit per `everyMs`. */
  markDirty(): void {
    if (this.closed || this.timer) return;
    const wait = Math.max(0, this.lastFlush + this.everyMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = null;
    this.lastFlush = Date.now();
    const poll = this.current();
    const json = JSON.stringify(poll);
    if (json === this.lastSent) return;
    this.lastSent = json;
    this.io.local.emit('poll:update', { poll });
  }

  close(): void {
    this.closed = true;
    this.off();
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
