// A local stand-in for Twitch's IRC-over-WebSocket server, speaking the subset the bridge
// uses: CAP REQ/ACK, PASS/NICK (a wrong token gets Twitch's NOTICE "Login authentication
// failed" and the connection closed), JOIN echo, PING/PONG both ways, PRIVMSG with tags,
// RECONNECT, and dropping connections. Real sockets, real framing: no mock of the client.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

interface Conn {
  ws: WebSocket;
  nick: string | null;
  pass: string | null;
  refused?: boolean;
  channels: Set<string>;
}

export interface ChatLine {
  userId: string;
  name?: string;
  text: string;
  /** Extra or replacement tags. */
  tags?: Record<string, string>;
}

export class FakeTwitch {
  readonly conns = new Set<Conn>();
  /** Lines received from clients, in order. */
  readonly received: string[] = [];
  /** PRIVMSG texts the clients posted (CHAT_ANNOUNCE). */
  readonly said: string[] = [];
  joins = 0;
  /** Most connections joined to one channel at the same moment. */
  maxJoined = 0;
  private server!: http.Server;
  private wss!: WebSocketServer;
  private seq = 0;

  constructor(private readonly opts: { token?: string } = {}) {}

  async start(): Promise<string> {
    this.server = http.createServer();
    this.wss = new WebSocketServer({ server: this.server });
    this.wss.on('connection', (ws) => this.onConnection(ws));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    this.wss.close();
    await new Promise((r) => this.server.close(r));
  }

  joined(channel: string): number {
    return [...this.conns].filter((c) => c.channels.has(channel) && c.ws.readyState === WebSocket.OPEN).length;
  }

  /** Chat lines to everyone in `channel`, several per WebSocket frame as Twitch sends them. */
  chat(channel: string, lines: ChatLine[], perFrame = 50): void {
    for (let i = 0; i < lines.length; i += perFrame) {
      this.raw(channel, lines.slice(i, i + perFrame).map((l) => this.privmsgLine(channel, l)));
    }
  }

  privmsgLine(channel: string, l: ChatLine): string {
    const name = l.name ?? `user${l.userId}`;
    const tags: Record<string, string> = {
      'badge-info': '',
      badges: '',
      color: '#1E90FF',
      'display-name': name,
      id: `m-${++this.seq}`,
      'room-id': '1000',
      'tmi-sent-ts': String(Date.now()),
      'user-id': l.userId,
      ...l.tags,
    };
    const t = Object.entries(tags).map(([k, v]) => `${k}=${v.replace(/\\/g, '\\\\').replace(/;/g, '\\:').replace(/ /g, '\\s')}`).join(';');
    const nick = name.toLowerCase();
    return `@${t} :${nick}!${nick}@${nick}.tmi.twitch.tv PRIVMSG #${channel} :${l.text}`;
  }

  /** Raw lines, one frame, to the connections joined to `channel`. */
  raw(channel: string, lines: string[]): void {
    const frame = lines.join('\r\n') + '\r\n';
    for (const c of this.conns) if (c.channels.has(channel) && c.ws.readyState === WebSocket.OPEN) c.ws.send(frame);
  }

  /** Twitch's "this server is going away": clients must reconnect. */
  reconnect(): void {
    for (const c of this.conns) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(':tmi.twitch.tv RECONNECT\r\n');
  }

  /** The connections vanish without a word (a network drop). */
  drop(): void {
    for (const c of this.conns) c.ws.terminate();
  }

  ping(): void {
    for (const c of this.conns) if (c.ws.readyState === WebSocket.OPEN) c.ws.send('PING :tmi.twitch.tv\r\n');
  }

  private onConnection(ws: WebSocket): void {
    const c: Conn = { ws, nick: null, pass: null, channels: new Set() };
    this.conns.add(c);
    ws.on('close', () => this.conns.delete(c));
    ws.on('message', (data) => {
      for (const line of data.toString().split('\r\n')) if (line) this.onLine(c, line);
    });
  }

  private onLine(c: Conn, line: string): void {
    this.received.push(line);
    const [cmd, ...rest] = line.split(' ');
    const arg = rest.join(' ');
    const send = (l: string) => c.ws.readyState === WebSocket.OPEN && c.ws.send(`${l}\r\n`);
    switch (cmd.toUpperCase()) {
      case 'CAP':
        send(`:tmi.twitch.tv CAP * ACK :${arg.replace(/^REQ :/, '')}`);
        return;
      case 'PASS':
        c.pass = arg.replace(/^oauth:/, '');
        return;
      case 'NICK': {
        c.nick = arg.toLowerCase();
        const anonymous = /^justinfan\d+$/.test(c.nick) && !c.pass;
        if (!anonymous && this.opts.token !== undefined && c.pass !== this.opts.token) {
          c.refused = true;
          send(':tmi.twitch.tv NOTICE * :Login authentication failed');
          setTimeout(() => c.ws.close(), 20);
          return;
        }
        send(`:tmi.twitch.tv 001 ${c.nick} :Welcome, GLHF!`);
        send(`:tmi.twitch.tv 376 ${c.nick} :>`);
        return;
      }
      case 'JOIN': {
        if (!c.nick || c.refused) return;
        const ch = arg.replace(/^#/, '').toLowerCase();
        // Twitch answers a JOIN sent before the login finished after it; here NICK always came first.
        setTimeout(() => {
          if (c.ws.readyState !== WebSocket.OPEN) return;
          c.channels.add(ch);
          this.joins++;
          this.maxJoined = Math.max(this.maxJoined, this.joined(ch));
          send(`:${c.nick}!${c.nick}@${c.nick}.tmi.twitch.tv JOIN #${ch}`);
          send(`@emote-only=0;room-id=1000 :tmi.twitch.tv ROOMSTATE #${ch}`);
        }, 5);
        return;
      }
      case 'PING':
        send(`:tmi.twitch.tv PONG tmi.twitch.tv :${arg.replace(/^:/, '')}`);
        return;
      case 'PRIVMSG': {
        const i = arg.indexOf(' :');
        if (i >= 0) this.said.push(arg.slice(i + 2));
        return;
      }
      default:
    }
  }
}
