// One channel's chat turned into votes: each message that is a vote for an option of the open
// poll goes to PollService.vote() with the voter id `<platform>:<account id>`, the same path
// as every other vote (durable in PostgreSQL first, one vote per voter per poll). Votes are
// not awaited one by one: the service's micro-batcher folds the ones in flight into multi-row
// INSERTs, which is what carries thousands of chat messages a second.
//
// An account seen voting in this poll is not sent again (chat repeats "!A" a lot); the service
// still decides, so a vote that failed (database away) is forgotten here and may be retried.
import { AppError, isDependencyDown } from '../errors.js';
import { log, errMessage } from '../logger.js';
import type { PollReader } from '../polls/live-view.js';
import type { PollView } from '../polls/types.js';
import { logOnce } from '../redis/log-once.js';
import { pollLine, resultLine, SayLimiter } from './announce.js';
import type { ChatMessage, ChatSource, SourceState } from './types.js';
import { parseVote, voterIdOf } from './votes.js';

const logger = log('CHAT');

/** What the bridge needs of the poll service. */
export interface VoteSink {
  vote(option: string, voterId: string): Promise<unknown>;
  readonly live: PollReader;
}

export interface ChatBridgeOptions {
  /** Count a bare `A`..`D` as a vote (CHAT_VOTE_BARE). */
  bare?: boolean;
  /** Post each new poll and each result into the chat (CHAT_ANNOUNCE), at most this many lines per 30 s. */
  announcePer30s?: number;
  /** Votes in flight beyond this are dropped and counted (the database is far behind). Default 50,000. */
  maxInFlight?: number;
  /** The source's state changed (connected, error). */
  onState?: (s: SourceState) => void;
}

export interface ChatStats {
  platform: string;
  channel: string;
  connected: boolean;
  since: string;
  reconnects: number;
  lastError: string | null;
  /** Chat messages received, and per second over the last 10 s. */
  messages: number;
  messagesPerSec: number;
  /** Votes the poll service accepted (recorded in PostgreSQL). */
  votes: number;
  /** Votes of accounts that had already voted in the poll. */
  duplicates: number;
  /** Lines dropped before they were messages (malformed, oversized), and votes for no open option. */
  ignored: number;
  /** Votes dropped because too many were in flight, or that failed (database away). */
  dropped: number;
  failed: number;
  inFlight: number;
  announced: number;
}

/** Counts per second over a sliding window of whole seconds. */
export class RateMeter {
  private buckets: number[];
  private at = 0;
  constructor(private readonly seconds = 10, private readonly now = () => Date.now()) {
    this.buckets = new Array(seconds).fill(0);
  }
  add(n = 1): void {
    this.roll();
    this.buckets[this.at % this.seconds] += n;
  }
  perSecond(): number {
    this.roll();
    const full = this.buckets.reduce((a, b) => a + b, 0) - this.buckets[this.at % this.seconds];
    return Math.round(full / (this.seconds - 1));
  }
  private roll(): void {
    const sec = Math.floor(this.now() / 1000);
    if (!this.at) this.at = sec;
    for (; this.at < sec; ) this.buckets[++this.at % this.seconds] = 0;
    if (sec < this.at - this.seconds) this.at = sec;
  }
}

export class ChatBridge {
  private readonly meter = new RateMeter();
  private readonly counts = { messages: 0, votes: 0, duplicates: 0, ignored: 0, dropped: 0, failed: 0, announced: 0 };
  private inFlight = 0;
  private pollId: number | null = null;
  private seen = new Set<string>();
  private readonly limiter: SayLimiter | null;
  private offPoll: (() => void) | undefined;
  private readonly announced = { poll: 0, result: 0 };
  private readonly voteFailure = logOnce({ warn: (m) => logger.warn(m), recovered: () => logger.info('chat votes are recorded again') });

  constructor(
    private readonly source: ChatSource,
    private readonly polls: VoteSink,
    private readonly opts: ChatBridgeOptions = {},
  ) {
    this.limiter = opts.announcePer30s && source.canSay ? new SayLimiter((t) => this.say(t), { perWindow: opts.announcePer30s }) : null;
  }

  start(): void {
    // The poll open now was announced by whoever opened it (or before this bridge started).
    const open = this.polls.live.current();
    if (open) this.announced.poll = open.id;
    this.offPoll = this.polls.live.subscribe((view, previous) => this.onPoll(view, previous));
    this.source.start({
      message: (m) => this.onMessage(m),
      state: (s) => this.opts.onState?.(s),
      ignored: () => {
        this.counts.ignored++;
      },
    });
  }

  async stop(): Promise<void> {
    this.offPoll?.();
    this.limiter?.close();
    await this.source.stop();
  }

  stats(): ChatStats {
    const s = this.source.state();
    return {
      platform: this.source.platform,
      channel: this.source.channel,
      ...s,
      ...this.counts,
      messagesPerSec: this.meter.perSecond(),
      inFlight: this.inFlight,
    };
  }

  /** Exposed for the tests and the benchmark: the path of one chat message. */
  onMessage(m: ChatMessage): void {
    this.counts.messages++;
    this.meter.add();
    const key = parseVote(m.text, { bare: !!this.opts.bare });
    if (!key) return;
    const poll = this.polls.live.current();
    if (!poll || !poll.options.some((o) => o.key === key)) {
      this.counts.ignored++;
      return;
    }
    if (poll.id !== this.pollId) this.resetSeen(poll.id);
    if (this.seen.has(m.userId)) {
      this.counts.duplicates++;
      return;
    }
    if (this.inFlight >= (this.opts.maxInFlight ?? 50_000)) {
      this.counts.dropped++;
      this.voteFailure.fail(`chat votes dropped: ${this.inFlight} in flight (the database is behind)`);
      return;
    }
    this.seen.add(m.userId);
    this.inFlight++;
    const pollId = poll.id;
    this.polls.vote(key, voterIdOf(m.platform, m.userId)).then(
      () => {
        this.inFlight--;
        this.counts.votes++;
        this.voteFailure.ok();
      },
      (err: unknown) => {
        this.inFlight--;
        const reason = err instanceof AppError ? (err.details as { reason?: string } | undefined)?.reason : undefined;
        if (reason === 'already_voted') this.counts.duplicates++;
        else if (err instanceof AppError && !isDependencyDown(err)) this.counts.ignored++; // poll closed, option gone
        else {
          this.counts.failed++;
          if (this.pollId === pollId) this.seen.delete(m.userId); // not recorded: a repeat may count
          this.voteFailure.fail(`a chat vote was not recorded: ${errMessage(err)}`);
        }
      },
    );
  }

  private resetSeen(pollId: number): void {
    this.pollId = pollId;
    this.seen = new Set();
  }

  /** A new poll arrives with `previous` (the closed one, or null); tally updates come without it. */
  private onPoll(view: PollView | null, previous?: PollView | null): void {
    if (!this.limiter || previous === undefined) return;
    // The same change may arrive twice (this process's own apply, then the Redis echo).
    if (previous && previous.id > this.announced.result && previous.id !== view?.id) {
      this.announced.result = previous.id;
      this.limiter.say(resultLine(previous));
    }
    if (view && view.id > this.announced.poll) {
      this.announced.poll = view.id;
      this.limiter.say(pollLine(view));
    }
  }

  private say(text: string): boolean {
    const ok = this.source.say(text);
    if (ok) this.counts.announced++;
    return ok;
  }
}
