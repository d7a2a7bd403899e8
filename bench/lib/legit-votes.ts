// Legitimate vote load with and without the issue-10 limiter, for bench/abuse.ts: the same
// load in one run, modes alternating round by round so a busy machine weighs on each alike.
// - REST: the web role as production wires it, in process (test/security/harness.ts); each
//   vote a new voter (no cookie) at an address of its own (X-Forwarded-For, TRUST_PROXY=loopback),
//   so the cookie is issued and the new-voter and vote budgets are spent, none refusing.
//   Reference without the limiter: a trusted caller (token + voterId; budgets skipped), the
//   shape of bench/votes-rest.ts (README: 3,993/s).
// - socket.io: bench/realtime-votes.ts's load (100 sockets, 70 attempts/s each against the
//   server's 60/s per socket: at most 6,000/s) on test/fixtures/web-node.ts in its own process,
//   each socket at an address of its own. Reference without the limiter: NO_SOCKET_GUARD=1.
import crypto from 'node:crypto';
import { Redis } from 'ioredis';
import { startSecStack } from '../../test/security/harness.js';
import { OPEN_LIMITS } from '../../test/helpers/env.js';
import { TestPolls } from '../../test/fixtures/redis-poll.js';
import { REDIS_URL, procSample, startClients, startServer } from '../realtime/lib.js';
import { runLoad } from './load.js';
import { percentile } from './stats.js';

/** The service's defaults (src/config.ts), spelled out: the test config starts from OPEN_LIMITS. */
export const DEFAULT_LIMITS: Record<string, string> = {
  LIMIT_VOTES_PER_POLL: '20',
  LIMIT_NEW_VOTERS_PER_HOUR: '60',
  LIMIT_CONTROL_PER_MINUTE: '60',
  LIMIT_SSE_PER_ADDRESS: '20',
  LIMIT_SSE_TOTAL: '500',
  LIMIT_SOCKETS_PER_MINUTE: '120',
};

export interface Figure {
  votesPerS: number;
  p50: number;
  p99: number;
  /** CPU ms per counted vote: REST the bench process (server + load thread), socket.io the server process. */
  cpuMsPerVote: number;
  /** Answers other than a counted vote (should be none). */
  other: string;
}

const OPTIONS = ['Ryu', 'Ken', 'Chun-Li', 'Akuma'];

/** REST votes/s: `mode` 'off' (OPEN_LIMITS), 'on' (defaults), 'trusted' (defaults; token + voterId, no budgets). */
export async function restVotes(mode: 'off' | 'on' | 'trusted', token: string, seconds: number, clients: number): Promise<Figure> {
  const s = await startSecStack({ TRUST_PROXY: 'loopback', API_TOKEN: token, ...(mode === 'off' ? OPEN_LIMITS : DEFAULT_LIMITS) });
  try {
    await s.role.polls.generate({ draft: { question: `Legit bench ${crypto.randomBytes(2).toString('hex')}?`, options: OPTIONS } });
    const trusted = mode === 'trusted';
    const run = crypto.randomBytes(3).toString('hex');
    const cpu0 = process.cpuUsage();
    const r = await runLoad({
      url: `${s.url}/api/vote`,
      method: 'POST',
      clients,
      seconds,
      bodyFn: trusted ? `return { option: 'ABCD'[(client + i) % 4], voterId: 'legit-${run}-' + client + '-' + i };` : `return { option: 'ABCD'[(client + i) % 4] };`,
      headers: trusted ? { authorization: `Bearer ${token}` } : {},
      headersFn: trusted ? undefined : `return { 'x-forwarded-for': '10.' + client + '.' + ((i >> 8) & 255) + '.' + (i & 255) };`,
    });
    const cpu = process.cpuUsage(cpu0);
    const accepted = Object.values(r.accepted).reduce((a, b) => a + b, 0);
    const { 200: ok, ...rest } = r.statuses as Record<string, number>;
    void ok;
    return {
      votesPerS: accepted / r.seconds,
      p50: percentile(r.latenciesMs, 50),
      p99: percentile(r.latenciesMs, 99),
      cpuMsPerVote: (cpu.user + cpu.system) / 1000 / accepted,
      other: JSON.stringify(rest),
    };
  } finally {
    await s.close();
  }
}

/** socket.io votes/s: 'off' (OPEN_LIMITS), 'on' (defaults), 'none' (no guard at all). */
export async function socketVotes(mode: 'off' | 'on' | 'none', seconds: number, voters: number): Promise<Figure> {
  const redis = new Redis(REDIS_URL);
  const polls = new TestPolls(redis, `legit-${crypto.randomBytes(4).toString('hex')}`);
  await polls.create('Legit bench?', ['A', 'B', 'C', 'D']);
  // The bench poll never rotates and each socket votes hundreds of times in it: the per-poll
  // vote budget is raised (it is checked all the same: one check per vote, whatever the limit).
  const limits = mode === 'on' ? { ...DEFAULT_LIMITS, LIMIT_VOTES_PER_POLL: '1000000000' } : OPEN_LIMITS;
  const server = await startServer({ POLL_NS: polls.ns, TRUST_PROXY: 'loopback', ...limits, ...(mode === 'none' ? { NO_SOCKET_GUARD: '1' } : {}) });
  const procs = [startClients(), startClients()];
  try {
    const cpu0 = procSample(server.pid).cpu;
    const results = await Promise.all(
      procs.map((p, k) =>
        p.request<{ accepted: Record<string, number>; refused: number; other: number; ackMs: number[]; startedAt: number; endedAt: number }>({
          cmd: 'votes',
          url: server.url,
          count: voters / procs.length,
          ratePerClient: 70,
          durationMs: seconds * 1000,
          options: ['A', 'B', 'C', 'D'],
          addressPrefix: `10.${50 + k}.`,
        }),
      ),
    );
    const secs = (Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt))) / 1000;
    const total = results.reduce((n, r) => n + Object.values(r.accepted).reduce((a, b) => a + b, 0), 0);
    const ack = results.flatMap((r) => r.ackMs);
    const other = results.reduce((n, r) => n + r.other, 0);
    // (The server's CPU from before the clients connect: connections and identities included.)
    const cpuMsPerVote = ((procSample(server.pid).cpu - cpu0) * 1000) / total;
    return { votesPerS: total / secs, p50: percentile(ack, 50), p99: percentile(ack, 99), cpuMsPerVote, other: `refused by the 60/s rate ${results.reduce((n, r) => n + r.refused, 0)}, other ${other}` };
  } finally {
    await Promise.all(procs.map((p) => p.request({ cmd: 'close' }).catch(() => undefined)));
    procs.forEach((p) => p.stop());
    await server.stop();
    await polls.cleanup();
    redis.disconnect();
  }
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
