// The chat bridge's small interface. A platform (Twitch over IRC today; YouTube Live Chat,
// which is polled over HTTP, could be another) is a ChatSource: it connects, keeps itself
// connected (reconnecting with backoff), and hands every chat message over with the
// platform's own account id. Everything above it (votes, announcements, the cluster lock,
// stats) is the same for every platform.

export type ChatPlatform = 'twitch' | 'youtube';

export interface ChatMessage {
  platform: ChatPlatform;
  /** The channel (Twitch login name) or live chat id the message was posted in. */
  channel: string;
  /** The platform's stable account id (Twitch `user-id` tag; YouTube `authorChannelId`). */
  userId: string;
  displayName: string;
  text: string;
  /** When this process received it (ms since the epoch). */
  receivedAt: number;
}

export interface SourceState {
  /** Logged in and receiving the channel's messages. */
  connected: boolean;
  /** Since when `connected` has had its value (ISO time). */
  since: string;
  /** Times the connection was re-established after the first. */
  reconnects: number;
  /** The last problem, in words (tokens redacted), or null. */
  lastError: string | null;
}

export interface ChatHandlers {
  message(m: ChatMessage): void;
  /** The connection state changed. */
  state(s: SourceState): void;
  /** A line was dropped before it became a message (malformed, oversized, missing tags). */
  ignored?(reason: string): void;
}

export interface ChatSource {
  readonly platform: ChatPlatform;
  readonly channel: string;
  /** Whether say() can post (an anonymous Twitch login cannot). */
  readonly canSay: boolean;
  /** Connects, and keeps reconnecting until stop(). */
  start(handlers: ChatHandlers): void;
  stop(): Promise<void>;
  /** Posts one line to the channel; false when not connected (the caller's rate limiter keeps it). */
  say(text: string): boolean;
  state(): SourceState;
}

/** Reconnect delays: `minMs`, doubling up to `maxMs`, each with up to 25 % jitter. */
export interface Backoff {
  minMs: number;
  maxMs: number;
}

export function backoffDelay(attempt: number, b: Backoff, random = Math.random): number {
  const base = Math.min(b.maxMs, b.minMs * 2 ** Math.max(0, attempt));
  return Math.round(base * (1 + 0.25 * random()));
}

/** Replaces a secret wherever it appears in a text (errors from libraries may quote it). */
export function scrub(text: string, secret: string | undefined): string {
  return secret && secret.length >= 4 ? text.split(secret).join('[redacted]') : text;
}
