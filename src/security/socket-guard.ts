// socket.io's side of the rules: the handshake Origin is checked as for HTTP writes, each
// handshake carries (or is given) the signed voter cookie, connections per address are
// budgeted, votes spend the same per-poll budget as REST, and registering as a STREAMER
// needs the token when API_TOKEN is set (`io({ auth: { token } })` or an Authorization header).
import type http from 'node:http';
import { log } from '../logger.js';
import { AppError } from '../errors.js';
import type { Budgets } from './budgets.js';
import { clientAddress, type TrustFn } from './addresses.js';
import { bearerOf, originAllowed, tokenMatches } from './trust.js';
import type { VoteGate } from './vote-gate.js';
import { RtError } from '../realtime/protocol.js';

const logger = log('REALTIME');

interface Handshake {
  address: string;
  voterId: string | null;
  setCookie?: string;
}

/** What the socket handlers need: the minimum of a socket.io Socket. */
export interface GuardedSocket {
  request: http.IncomingMessage;
  handshake: { auth: Record<string, unknown>; headers: http.IncomingHttpHeaders };
}

export interface SocketGuardDeps {
  token: string | undefined;
  allowedOrigins: ReadonlySet<string>;
  trust: TrustFn;
  budgets: Budgets;
  votes: VoteGate;
}

export class SocketGuard {
  private readonly handshakes = new WeakMap<http.IncomingMessage, Handshake>();

  constructor(private readonly d: SocketGuardDeps) {}

  /** engine.io `allowRequest`: runs once per handshake (not per polling request). */
  readonly allowRequest = (req: http.IncomingMessage, cb: (err: string | null | undefined, ok: boolean) => void): void => {
    if (!originAllowed(req.headers.origin, req.headers.host, this.d.allowedOrigins)) {
      logger.debug(`socket.io handshake refused: origin ${req.headers.origin}`);
      return cb('origin not allowed', false);
    }
    const address = clientAddress(req, this.d.trust);
    this.d.votes.identifyHandshake(req, address).then(
      (voter) => {
        this.handshakes.set(req, { address, voterId: voter?.voterId ?? null, setCookie: voter?.setCookie });
        cb(null, true);
      },
      (err) => {
        logger.warn(`socket.io handshake: ${err instanceof Error ? err.message : String(err)}`);
        cb('unavailable', false);
      },
    );
  };

  /** engine.io `initial_headers`: a new voter identity travels back as a cookie. */
  readonly initialHeaders = (headers: Record<string, unknown>, req: http.IncomingMessage): void => {
    const h = this.handshakes.get(req);
    if (h?.setCookie) headers['set-cookie'] = [h.setCookie];
  };

  /** io.use(): connections per address (`connect_error` with data {code, retryAfter} when spent). */
  readonly middleware = (socket: GuardedSocket, next: (err?: Error) => void): void => {
    const address = this.addressOf(socket);
    this.d.budgets.take('sockets', address).then(
      () => next(),
      (err) => {
        const e = new Error(err instanceof Error ? err.message : String(err)) as Error & { data?: unknown };
        e.data = err instanceof AppError ? { code: err.status === 429 ? 'rate_limited' : 'unavailable', retryAfter: err.retryAfter } : { code: 'unavailable' };
        next(e);
      },
    );
  };

  addressOf(socket: GuardedSocket): string {
    return this.handshakes.get(socket.request)?.address ?? clientAddress(socket.request, this.d.trust);
  }

  /** Registering a stream: anyone in the laptop mode, else only a token holder. */
  canStream(socket: GuardedSocket): boolean {
    if (!this.d.token) return true;
    const given = typeof socket.handshake.auth?.token === 'string' ? socket.handshake.auth.token : bearerOf(socket.handshake.headers.authorization);
    return tokenMatches(this.d.token, given);
  }

  /** Counts a socket's vote as its handshake's voter, within the address's budget. */
  async castVote(socket: GuardedSocket, count: (voterId: string) => Promise<void>): Promise<void> {
    const h = this.handshakes.get(socket.request);
    if (!h?.voterId) throw new RtError('rate_limited', 'this connection has no voter identity (too many new voters from this address); reconnect later');
    try {
      await this.d.votes.cast({ trusted: false, address: h.address }, () => count(h.voterId!));
    } catch (err) {
      if (err instanceof AppError && err.status === 429) throw new RtError('rate_limited', err.message);
      throw err;
    }
  }
}
