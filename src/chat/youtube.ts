// YouTube Live Chat as a ChatSource: YouTube has no push interface for chat, so this polls
// `liveChatMessages.list` (GET /youtube/v3/liveChat/messages?liveChatId&part=snippet,authorDetails
// &pageToken), waiting the `pollingIntervalMillis` each answer asks for, and keeps the
// `nextPageToken` so no message is read twice. The voter is the author's channel id
// (`youtube:<channelId>`). Errors back off like Twitch's reconnects; a 401/403 is reported as a
// credential problem, and `liveChatEnded` ends the polling.
//
// Not wired to the configuration yet (no YOUTUBE_* variables): it is exercised against a local
// stand-in server in test/chat-youtube.test.ts. The base URL is configurable for that reason.
import { log } from '../logger.js';
import { backoffDelay, scrub, type Backoff, type ChatHandlers, type ChatSource, type SourceState } from './types.js';

const logger = log('CHAT');

export interface YouTubeChatOptions {
  /** Default https://www.googleapis.com */
  baseUrl?: string;
  liveChatId: string;
  /** An API key (read only) or an OAuth access token (needed to post). */
  apiKey?: string;
  accessToken?: string;
  backoff?: Backoff;
  /** Floor of the wait between polls, whatever the server says (default 1000 ms). */
  minIntervalMs?: number;
}

interface ListResponse {
  nextPageToken?: string;
  pollingIntervalMillis?: number;
  offlineAt?: string;
  items?: {
    snippet?: { type?: string; displayMessage?: string; textMessageDetails?: { messageText?: string }; authorChannelId?: string };
    authorDetails?: { channelId?: string; displayName?: string };
  }[];
}

export class YouTubeChat implements ChatSource {
  readonly platform = 'youtube' as const;
  readonly channel: string;
  readonly canSay: boolean;
  private handlers: ChatHandlers | null = null;
  private st: SourceState = { connected: false, since: new Date().toISOString(), reconnects: 0, lastError: null };
  private pageToken: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private failures = 0;
  private everConnected = false;
  private inFlight: AbortController | null = null;

  constructor(private readonly o: YouTubeChatOptions) {
    this.channel = o.liveChatId;
    this.canSay = Boolean(o.accessToken);
  }

  start(handlers: ChatHandlers): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.handlers = handlers;
    void this.poll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.inFlight?.abort();
    this.set({ connected: false });
  }

  say(text: string): boolean {
    if (!this.canSay || !this.st.connected) return false;
    const body = { snippet: { liveChatId: this.o.liveChatId, type: 'textMessageEvent', textMessageDetails: { messageText: text.slice(0, 200) } } };
    fetch(this.url('part=snippet'), { method: 'POST', headers: { ...this.headers(), 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then((r) => r.ok || logger.warn(`youtube: posting to the chat failed (HTTP ${r.status})`))
      .catch((err: Error) => logger.warn(`youtube: posting to the chat failed: ${scrub(err.message, this.secret())}`));
    return true;
  }

  state(): SourceState {
    return { ...this.st };
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const ctl = (this.inFlight = new AbortController());
    let wait: number;
    try {
      const q = `liveChatId=${encodeURIComponent(this.o.liveChatId)}&part=snippet,authorDetails&maxResults=2000${this.pageToken ? `&pageToken=${encodeURIComponent(this.pageToken)}` : ''}`;
      const res = await fetch(this.url(q), { headers: this.headers(), signal: ctl.signal });
      const body = (await res.json().catch(() => ({}))) as ListResponse & { error?: { message?: string; errors?: { reason?: string }[] } };
      if (!res.ok) {
        const reason = body.error?.errors?.[0]?.reason ?? '';
        if (reason === 'liveChatEnded') return this.end('the live chat has ended');
        const what = res.status === 401 || res.status === 403 ? 'check the YouTube API key or access token' : 'will retry';
        throw new Error(`YouTube answered HTTP ${res.status} ${reason || body.error?.message || ''} — ${what}`.replace(/\s+/g, ' '));
      }
      this.pageToken = body.nextPageToken ?? this.pageToken;
      if (!this.st.connected) {
        if (this.everConnected) this.st.reconnects += 1;
        this.everConnected = true;
        this.set({ connected: true, lastError: null });
      }
      this.failures = 0;
      for (const it of body.items ?? []) this.onItem(it);
      if (body.offlineAt) return this.end('the broadcast is offline');
      wait = Math.max(this.o.minIntervalMs ?? 1000, body.pollingIntervalMillis ?? 5000);
    } catch (err) {
      if (this.stopped) return;
      const msg = scrub((err as Error).message, this.secret());
      if (msg !== this.st.lastError) logger.warn(`youtube chat ${this.o.liveChatId}: ${msg}`);
      this.set({ connected: false, lastError: msg });
      wait = backoffDelay(this.failures++, this.o.backoff ?? { minMs: 1000, maxMs: 60_000 });
    } finally {
      if (this.inFlight === ctl) this.inFlight = null;
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.poll(), wait);
  }

  private onItem(it: NonNullable<ListResponse['items']>[number]): void {
    const sn = it.snippet;
    const userId = it.authorDetails?.channelId ?? sn?.authorChannelId;
    const text = sn?.textMessageDetails?.messageText ?? sn?.displayMessage;
    if (sn?.type !== 'textMessageEvent' || !userId || !/^[A-Za-z0-9_-]{1,64}$/.test(userId) || typeof text !== 'string') {
      this.handlers?.ignored?.('not a text message');
      return;
    }
    this.handlers?.message({
      platform: 'youtube',
      channel: this.channel,
      userId,
      displayName: it.authorDetails?.displayName ?? userId,
      text,
      receivedAt: Date.now(),
    });
  }

  private end(why: string): void {
    logger.info(`youtube chat ${this.o.liveChatId}: ${why}; polling stops`);
    this.stopped = true;
    this.set({ connected: false, lastError: why });
  }

  private url(query: string): string {
    const base = (this.o.baseUrl ?? 'https://www.googleapis.com').replace(/\/+$/, '');
    const key = this.o.apiKey && !this.o.accessToken ? `&key=${encodeURIComponent(this.o.apiKey)}` : '';
    return `${base}/youtube/v3/liveChat/messages?${query}${key}`;
  }

  private headers(): Record<string, string> {
    return this.o.accessToken ? { authorization: `Bearer ${this.o.accessToken}` } : {};
  }

  private secret(): string | undefined {
    return this.o.accessToken ?? this.o.apiKey;
  }

  private set(patch: Partial<SourceState>): void {
    const before = this.st;
    const next = { ...before, ...patch };
    if (next.connected !== before.connected) next.since = new Date().toISOString();
    this.st = next;
    if (next.connected !== before.connected || next.lastError !== before.lastError) this.handlers?.state(this.state());
  }
}
