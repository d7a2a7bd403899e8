// CHAT_ANNOUNCE: the bridge posts each new poll and each result into the chat. Twitch drops
// (and, repeated, locks out) an account that posts more than 20 messages in 30 s (100 as a
// moderator), so lines go through a sliding-window limiter; a short queue keeps the newest
// lines when the window is full (an old poll's announcement is worth nothing later).
import type { PollView } from '../polls/types.js';
import { voteCommands } from './votes.js';

export class SayLimiter {
  private sent: number[] = [];
  private queue: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (text: string) => boolean,
    private readonly opts: { perWindow: number; windowMs?: number; maxQueue?: number; now?: () => number } = { perWindow: 20 },
  ) {}

  private get windowMs() {
    return this.opts.windowMs ?? 30_000;
  }

  /** Queues a line; it goes out as soon as the window allows and the connection takes it. */
  say(text: string): void {
    this.queue.push(text);
    const max = this.opts.maxQueue ?? 5;
    if (this.queue.length > max) this.queue.splice(0, this.queue.length - max);
    this.flush();
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Lines sent in the current window. */
  get inWindow(): number {
    this.prune();
    return this.sent.length;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private prune(): void {
    const from = this.now() - this.windowMs;
    while (this.sent.length && this.sent[0] <= from) this.sent.shift();
  }

  private flush(): void {
    this.prune();
    while (this.queue.length && this.sent.length < this.opts.perWindow) {
      if (!this.send(this.queue[0])) break; // not connected: try again shortly
      this.queue.shift();
      this.sent.push(this.now());
    }
    if (this.queue.length && !this.timer) {
      const wait = this.sent.length >= this.opts.perWindow ? this.sent[0] + this.windowMs - this.now() + 5 : 1000;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, Math.max(5, wait));
      this.timer.unref();
    }
  }
}

/** The line announcing a new poll. */
export function pollLine(poll: PollView): string {
  const opts = poll.options.map((o) => `${o.key}) ${o.label}`).join('  ');
  return `📊 New poll: ${poll.question}  ${opts}  — vote with ${voteCommands(poll.options.map((o) => o.key))}`;
}

/** The line with a closed poll's result. */
export function resultLine(poll: PollView): string {
  if (poll.total === 0) return `🏁 Poll closed: ${poll.question} — no votes`;
  const top = Math.max(...poll.options.map((o) => o.votes));
  const winners = poll.options.filter((o) => o.votes === top);
  const who = winners.map((o) => `${o.key}) ${o.label}`).join(' and ');
  const pct = winners[0].percent;
  return `🏁 Poll closed: ${poll.question} — ${winners.length > 1 ? 'tie: ' : ''}${who} with ${top} of ${poll.total} votes (${pct}%)`;
}
