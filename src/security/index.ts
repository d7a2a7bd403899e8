// Safe in public (issue 10): everything the web role needs to face the internet, built once
// per process from config and the shared Redis. startWeb mounts `middleware` before the
// routers, hands `votes` to the poll router and `socket` to socket.io.
import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { Budgets, limitsFrom } from './budgets.js';
import { compileTrust, type TrustFn } from './addresses.js';
import { securityHeaders } from './headers.js';
import { controlBudget, feedCaps, redactOpenReads, requestGuard, type GuardOptions } from './http-guards.js';
import { SocketGuard } from './socket-guard.js';
import { parseOrigins, isLoopback } from './trust.js';
import { VoteGate } from './vote-gate.js';
import { loadVoterSecret, VoterIdentity } from './voters.js';

export { VoteGate } from './vote-gate.js';
export { SocketGuard } from './socket-guard.js';
export { VOTER_COOKIE } from './voters.js';

export interface Security {
  trust: TrustFn;
  budgets: Budgets;
  votes: VoteGate;
  socket: SocketGuard;
  /** Mounted in this order before the body parser and the routers. */
  middleware: RequestHandler[];
  /** Open SSE feeds on this node. */
  openFeeds(): number;
}

export async function createSecurity(
  config: Config,
  redis: Redis,
  opts: { currentPollId?: () => Promise<string | number | null> } = {},
): Promise<Security> {
  const identity = new VoterIdentity(await loadVoterSecret(redis, config.VOTER_SECRET));
  const trust = compileTrust(config.TRUST_PROXY);
  const budgets = new Budgets(redis, limitsFrom(config));
  const allowedOrigins = parseOrigins(config.ALLOWED_ORIGINS);
  const votes = new VoteGate({
    identity,
    budgets,
    token: config.API_TOKEN,
    // Without a poll source (a web node with no polls), one budget per address.
    currentPollId: opts.currentPollId ?? (async () => 'any'),
  });
  const g: GuardOptions = { token: config.API_TOKEN, allowedOrigins, budgets, sseTotal: config.LIMIT_SSE_TOTAL };
  const feeds = feedCaps(g);
  return {
    trust,
    budgets,
    votes,
    socket: new SocketGuard({ token: config.API_TOKEN, allowedOrigins, trust, budgets, votes }),
    middleware: [securityHeaders(), requestGuard(g), controlBudget(g), feeds.handler, redactOpenReads(g)],
    openFeeds: feeds.open,
  };
}

/** The start-up line that says who can reach the control API. */
export function exposureLine(config: Config): { level: 'info' | 'warn'; text: string } {
  const local = isLoopback(config.HOST) || config.HOST === 'localhost';
  if (config.API_TOKEN) return { level: 'info', text: `control API needs the bearer token (API_TOKEN); listening on ${config.HOST}` };
  if (local) {
    return { level: 'info', text: `no API_TOKEN: listening on ${config.HOST} only, so only this machine can reach the open control API (set API_TOKEN, and HOST=0.0.0.0, to serve others)` };
  }
  return { level: 'warn', text: `no API_TOKEN and HOST=${config.HOST}: anyone who can reach this address can start and stop streams; set API_TOKEN` };
}
