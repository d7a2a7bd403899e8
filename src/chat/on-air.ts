// What the poll scene needs to say "type !A … in chat": which chat bridge is connected now.
// Any process (a worker rendering the poll) listens to `sf:chat:status`; the node running the
// bridge publishes there on every change and every few seconds, so a bridge that died without
// a word drops off the screen once its last word is `staleMs` old.
import type { Subscriber, Unsubscribe } from '../redis/index.js';
import type { PollView } from '../polls/types.js';
import { chatKeys, type ChatKeys, type ChatStatus } from './runner.js';

/** The optional field of a PollView that the poll scene draws (see render/scenes/poll.ts). */
export interface ChatOnAir {
  platform: string;
  channel: string;
}

export class ChatOnAirFeed {
  private readonly seen = new Map<string, { status: ChatStatus; at: number }>();
  private readonly listeners = new Set<(c: ChatOnAir | null) => void>();
  private shown: ChatOnAir | null = null;
  private unsubscribe: Unsubscribe | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly subscriber: Subscriber,
    private readonly opts: { keys?: ChatKeys; staleMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    if (this.unsubscribe) return;
    const channel = (this.opts.keys ?? chatKeys()).status();
    this.unsubscribe = await this.subscriber.subscribe(channel, (m) => this.onMessage(m.toString()));
    this.timer = setInterval(() => this.update(), 1000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.listeners.clear();
    await this.unsubscribe?.();
  }

  current(): ChatOnAir | null {
    return this.shown;
  }

  /** `fn` runs when the connected bridge appears, changes or goes away. Returns unsubscribe. */
  subscribe(fn: (c: ChatOnAir | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private onMessage(message: string): void {
    const s = JSON.parse(message) as ChatStatus;
    if (!s || typeof s.channel !== 'string' || typeof s.platform !== 'string') return;
    this.seen.set(`${s.platform}:${s.channel}`, { status: s, at: Date.now() });
    this.update();
  }

  private update(): void {
    const staleBefore = Date.now() - (this.opts.staleMs ?? 10_000);
    let next: ChatOnAir | null = null;
    for (const [k, { status, at }] of this.seen) {
      if (at < staleBefore || !status.node) this.seen.delete(k);
      else if (status.connected && !next) next = { platform: status.platform, channel: status.channel };
    }
    if (next?.platform === this.shown?.platform && next?.channel === this.shown?.channel) return;
    this.shown = next;
    for (const fn of this.listeners) fn(next);
  }
}

/** The poll view with the chat hint the scene draws (a new object only when it changes). */
export function withChat<T extends PollView | null>(view: T, chat: ChatOnAir | null): T {
  if (!view) return view;
  if (!chat) return view.chat ? ({ ...view, chat: undefined } as T) : view;
  return { ...view, chat } as T;
}
