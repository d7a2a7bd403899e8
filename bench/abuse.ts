// Abuse and its cost (issue 10), against the web role as production wires it (polls,
// socket.io, security layer; PostgreSQL; Redis), default budgets, TRUST_PROXY=loopback so
// X-Forwarded-For names the client address:
// 1. one attacking address, each trick for ABUSE_SECONDS on a fresh poll: counted votes
//    (goal: at most LIMIT_VOTES_PER_POLL = 20 per poll), per minute;
// 2. legitimate REST votes/s with the limiter in the path (every vote a new voter at its own
//    address: cookie issued, new-voter and vote budgets spent), p50/p99 of /api/vote, beside
//    the same load from a trusted caller (token + voterId: budgets skipped).
// Socket votes/s with the limiter in the path: bench/realtime-votes.ts (its votes pass the gate).
// Env: ABUSE_SECONDS (15), LEGIT_SECONDS (15), VOTERS (100).
import crypto from 'node:crypto';
import { io as connect } from 'socket.io-client';
import { startSecStack } from '../test/security/harness.js';
import { runLoad } from './lib/load.js';
import { fmt, percentile, printMachine } from './lib/stats.js';

const ABUSE_SECONDS = Number(process.env.ABUSE_SECONDS ?? 15);
const LEGIT_SECONDS = Number(process.env.LEGIT_SECONDS ?? 15);
const VOTERS = Number(process.env.VOTERS ?? 100);
const TOKEN = 'bench-abuse-token-0001';
printMachine();

// Budgets at their defaults; API_TOKEN set so a trusted caller exists; the log quiet.
const s = await startSecStack({ TRUST_PROXY: 'loopback', API_TOKEN: TOKEN, LIMIT_VOTES_PER_POLL: '20', LIMIT_NEW_VOTERS_PER_HOUR: '60', LIMIT_SOCKETS_PER_MINUTE: '120', LIMIT_CONTROL_PER_MINUTE: '60' });
const freshPoll = async () => (await s.role.polls.generate({ draft: { question: `Abuse bench ${crypto.randomBytes(2).toString('hex')}?`, options: ['Ryu', 'Ken', 'Chun-Li', 'Akuma'] } })).poll;
// The budget is per poll and does not refill while the poll is open: what counted in the
// window is all that counts in a minute, or in an hour.
const perMinute = (counted: number) => `at most ${counted} per minute: the per-poll budget does not refill`;
const total = async () => (await s.role.polls.refresh())?.total ?? 0;

async function socketTrick(address: string, seconds: number): Promise<{ attempts: number; outcomes: Record<string, number> }> {
  const outcomes: Record<string, number> = {};
  let attempts = 0;
  const deadline = Date.now() + seconds * 1000;
  const one = async () => {
    const sock = connect(s.url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { 'x-forwarded-for': address } });
    try {
      await new Promise<void>((res, rej) => (sock.once('connect', () => res()), sock.once('connect_error', rej)));
      const r = (await sock.timeout(5000).emitWithAck('vote:cast', { option: 'A' })) as { ok: boolean; error?: { code: string } };
      return r.ok ? 'counted' : r.error!.code;
    } catch (err) {
      return `connect_error ${(err as { data?: { code?: string } }).data?.code ?? (err as Error).message}`;
    } finally {
      sock.disconnect();
    }
  };
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (Date.now() < deadline) {
        attempts++;
        const o = await one();
        outcomes[o] = (outcomes[o] ?? 0) + 1;
      }
    }),
  );
  return { attempts, outcomes };
}

try {
  console.log(`abuse: one attacking address per trick, ${ABUSE_SECONDS} s each, fresh poll each; budget ${s.config.LIMIT_VOTES_PER_POLL} counted votes per address per poll`);
  const tricks: [string, Parameters<typeof runLoad>[0]['headersFn'], string][] = [
    ['made-up voterId in the body', undefined, `return { option: 'ABCD'[i % 4], voterId: 'stuff-' + client + '-' + i };`],
    ['no cookie (a new voter each time)', undefined, `return { option: 'ABCD'[i % 4] };`],
    ['a new forged cookie each time', `return { cookie: 'sf_voter=' + Math.random().toString(36).slice(2) + '.' + Math.random().toString(36).slice(2) };`, `return { option: 'ABCD'[i % 4] };`],
  ];
  let n = 0;
  for (const [name, headersFn, bodyFn] of tricks) {
    await freshPoll();
    const address = `203.0.113.${++n}`;
    const r = await runLoad({ url: `${s.url}/api/vote`, method: 'POST', clients: 20, seconds: ABUSE_SECONDS, bodyFn, headers: { 'x-forwarded-for': address }, headersFn });
    const counted = await total();
    console.log(`  ${name}: ${r.requests} attempts (${fmt(r.requests / r.seconds, 0)}/s) → ${counted} counted in ${fmt(r.seconds, 0)} s (${perMinute(counted)}); statuses ${JSON.stringify(r.statuses)}`);
  }
  await freshPoll();
  const sock = await socketTrick(`203.0.113.${++n}`, ABUSE_SECONDS);
  const counted = await total();
  console.log(`  reconnecting socket.io for every vote: ${sock.attempts} attempts → ${counted} counted in ${ABUSE_SECONDS} s (${perMinute(counted)}); outcomes ${JSON.stringify(sock.outcomes)}`);

  for (const [label, headersFn, bodyFn, headers] of [
    ['new voters at distinct addresses (limiter in the path)', `return { 'x-forwarded-for': '10.' + client + '.' + ((i >> 8) & 255) + '.' + (i & 255) };`, `return { option: 'ABCD'[(client + i) % 4] };`, {}],
    ['trusted caller, token + voterId (budgets skipped)', undefined, `return { option: 'ABCD'[(client + i) % 4], voterId: 'legit-' + client + '-' + i };`, { authorization: `Bearer ${TOKEN}` }],
  ] as const) {
    await freshPoll();
    const r = await runLoad({ url: `${s.url}/api/vote`, method: 'POST', clients: VOTERS, seconds: LEGIT_SECONDS, bodyFn, headersFn, headers: { ...headers } });
    const accepted = Object.values(r.accepted).reduce((a, b) => a + b, 0);
    const counted = await total();
    console.log(
      `legit REST, ${label}: ${VOTERS} clients, ${fmt(r.seconds)} s: ${accepted} accepted = ${fmt(accepted / r.seconds, 0)} votes/s; ` +
        `/api/vote p50 ${fmt(percentile(r.latenciesMs, 50), 2)} ms, p99 ${fmt(percentile(r.latenciesMs, 99), 2)} ms; statuses ${JSON.stringify(r.statuses)}; poll total ${counted}`,
    );
  }
} finally {
  await s.close();
}
process.exit(0);
