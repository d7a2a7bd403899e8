// Twitch chat over its IRC interface on a (TLS) WebSocket, protocol-direct over `ws`: the
// subset is small (PASS/NICK, CAP REQ, JOIN, PING/PONG, RECONNECT, NOTICE, PRIVMSG), and doing it
// ourselves keeps every line on our hot path (thousands a second, parsed once), lets the server
// URL point at a local test server, and surfaces a refused token as a clear state instead of a
// library's retry loop. Anonymous read-only logins (`justinfanNNNN`, no token) are allowed.
import WebSocket from 'ws';
import { log } from '../logger.js';
import { MAX_LINE, nickOf, parseIrcLine, privmsg, type IrcMessage } from './irc.js';
import { backoffDelay, scrub, type Backoff, type ChatHandlers, type ChatSource, type SourceState } from './types.js';

const logger = log('CHAT');

export interface TwitchChatOptions {
  /** Default wss://irc-ws.chat.twitch.tv:443 (TWITCH_IRC_URL). */
  url: string;
  /** Login name of the channel, without '#'. */
  channel: string;
  /** With a token: the account the token belongs to. Without: an anonymous read-only login. */
  username?: string;
  token?: string;
  backoff?: Backoff;
  /** After a refused login, wait this long before trying again (default 60 s; a token does not fix itself). */
  authRetryMs?: number;
  /** No data for this long: send a PING (default 60 s). */
  idlePingMs?: number;
  /** No answer to it for this long: the connection is dead, reconnect (default 10 s). */
  pongTimeoutMs?: number;
}

const AUTH_FAILURES = /Login authentication failed|Improperly formatted auth|Login unsuccessful/i;

export class TwitchChat implements ChatSource {
  readonly platform = 'twitch' as const;
  readonly channel: string;
  readonly canSay: boolean;
  private readonly nick: string;
  private ws: WebSocket | null = null;
  private handlers: ChatHandlers | null = null;
  private st: SourceState = { connected: false, since: new Date().toISOString(), reconnects: 0, lastError: null };
  private attempt = 0;
  private everJoined = false;
  private stopped = true;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastData = 0;
  private authFailed = false;

  constructor(private readonly o: TwitchChatOptions) {
    this.channel = o.channel.replace(/^#/, '').toLowerCase();
    this.canSay = Boolean(o.token && o.username);
    this.nick = o.token && o.username ? o.username.toLowerCase() : `justinfan${10000 + Math.floor(Math.random() * 80000)}`;
  }

  start(handlers: ChatHandlers): void {
    if (!this.stopped) return;
    this.handlers = handlers;
    this.stopped = false;
    this.open();
    const idle = this.o.idlePingMs ?? 60_000;
    this.idleTimer = setInterval(() => this.checkIdle(idle), Math.min(idle, 5000));
    this.idleTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.idleTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((r) => ws.once('close', () => r()));
      ws.close(1000);
      // Leave the channel quickly (a lock hand-over waits for this); the close handshake is a courtesy.
      const t = setTimeout(() => ws.terminate(), 250);
      await closed;
      clearTimeout(t);
    }
    this.setState({ connected: false });
  }

  say(text: string): boolean {
    if (!this.canSay || !this.st.connected || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(privmsg(this.channel, text));
    return true;
  }

  state(): SourceState {
    return { ...this.st };
  }

  private open(): void {
    if (this.stopped) return;
    this.authFailed = false;
    const ws = new WebSocket(this.o.url, { maxPayload: 4 * 1024 * 1024, handshakeTimeout: 10_000 });
    this.ws = ws;
    this.lastData = Date.now();
    ws.on('open', () => {
      ws.send('CAP REQ :twitch.tv/tags twitch.tv/commands');
      if (this.canSay) ws.send(`PASS oauth:${this.o.token}`);
      ws.send(`NICK ${this.nick}`);
      ws.send(`JOIN #${this.channel}`);
    });
    ws.on('message', (data) => {
      this.lastData = Date.now();
      const text = typeof data === 'string' ? data : data.toString();
      for (const line of text.split('\r\n')) if (line) this.onLine(line, ws);
    });
    ws.on('error', (err) => this.fail(`connection error: ${err.message}`));
    ws.on('close', (code) => {
      if (this.ws !== ws) return; // replaced (RECONNECT) or stopped
      this.ws = null;
      if (!this.authFailed) this.fail(`connection closed (code ${code})`, false);
      this.retry(this.authFailed ? (this.o.authRetryMs ?? 60_000) : backoffDelay(this.attempt++, this.o.backoff ?? { minMs: 1000, maxMs: 30_000 }));
    });
  }

  private onLine(line: string, ws: WebSocket): void {
    if (this.authFailed) return; // the server is closing this connection
    const m = line.length > MAX_LINE ? null : parseIrcLine(line);
    if (!m) {
      this.handlers?.ignored?.(line.length > MAX_LINE ? 'oversized' : 'malformed');
      return;
    }
    switch (m.command) {
      case 'PRIVMSG':
        return this.onPrivmsg(m);
      case 'PING':
        ws.send(`PONG :${m.params[0] ?? 'tmi.twitch.tv'}`);
        return;
      case 'JOIN':
        if (nickOf(m.prefix) === this.nick && m.params[0]?.toLowerCase() === `#${this.channel}`) this.joined();
        return;
      case 'RECONNECT':
        // Twitch is about to restart this server: open a new connection now, drop this one.
        logger.info(`twitch asked #${this.channel} to reconnect`);
        this.ws = null;
        ws.terminate();
        this.setState({ connected: false });
        this.open();
        return;
      case 'NOTICE': {
        const text = m.params[m.params.length - 1] ?? '';
        if (AUTH_FAILURES.test(text)) {
          this.authFailed = true;
          this.fail(`Twitch refused the login of "${this.nick}": ${text} — check TWITCH_USERNAME and TWITCH_OAUTH_TOKEN (oauth:[redacted]); retrying in ${Math.round((this.o.authRetryMs ?? 60_000) / 1000)} s`);
          ws.close();
        } else logger.info(`twitch notice in #${this.channel}: ${scrub(text, this.o.token).slice(0, 300)}`);
        return;
      }
      default:
    }
  }

  private onPrivmsg(m: IrcMessage): void {
    const userId = m.tags['user-id'];
    const text = m.params[1];
    if (!userId || !/^\d{1,20}$/.test(userId) || text === undefined) {
      this.handlers?.ignored?.('no user id');
      return;
    }
    this.handlers?.message({
      platform: 'twitch',
      channel: this.channel,
      userId,
      displayName: m.tags['display-name'] || nickOf(m.prefix),
      text,
      receivedAt: Date.now(),
    });
  }

  private joined(): void {
    if (this.everJoined) this.st.reconnects += 1;
    this.everJoined = true;
    this.attempt = 0;
    this.setState({ connected: true, lastError: null });
    logger.info(`joined twitch chat #${this.channel} as ${this.nick}`);
  }

  private checkIdle(idleMs: number): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const quiet = Date.now() - this.lastData;
    if (quiet > idleMs + (this.o.pongTimeoutMs ?? 10_000)) {
      this.fail(`no data for ${Math.round(quiet / 1000)} s`, false);
      ws.terminate(); // 'close' schedules the reconnect
    } else if (quiet > idleMs) ws.send('PING :stream-fighter');
  }

  private retry(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delayMs);
  }

  private fail(message: string, asError = true): void {
    const safe = scrub(message, this.o.token);
    const was = this.st.lastError;
    this.setState({ connected: false, lastError: asError || !this.st.lastError ? safe : this.st.lastError });
    if (safe !== was && !this.stopped) logger[asError ? 'error' : 'warn'](`twitch #${this.channel}: ${safe}`);
  }

  private setState(patch: Partial<SourceState>): void {
    const before = this.st;
    const next = { ...before, ...patch };
    if (next.connected !== before.connected) next.since = new Date().toISOString();
    this.st = next;
    if (next.connected !== before.connected || next.lastError !== before.lastError) this.handlers?.state(this.state());
  }
}
