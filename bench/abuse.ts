// Abuse and its cost (issue 10), against the web role as production wires it (polls,
// socket.io, security layer; PostgreSQL; Redis), default budgets, TRUST_PROXY=loopback so
// X-Forwarded-For names the client address:
// 1. one attacking address, each trick for ABUSE_SECONDS on a fresh poll: counted votes
//    (goal: at most LIMIT_VOTES_PER_POLL = 20 per poll), per minute;
// 2. legitimate votes/s, REST and socket.io, the same load with the limits off (OPEN_LIMITS:
//    every check still made, none refusing), with the default limits, and without the limiter
//    at all (REST: a trusted caller; socket.io: no guard), side by side with the ratio, plus
//    p50/p99 of /api/vote and of the socket ack; ROUNDS rounds, modes alternating, medians
//    (bench/lib/legit-votes.ts says what each load is).
// 3. the limiter alone per vote, before (rate-limiter-flexible) and now (bench/lib/limiter-cost.ts).
// Env: ABUSE_SECONDS (15; 0 skips part 1), LEGIT_SECONDS (10), VOTERS (100), ROUNDS (3; 0 skips part 2).
import crypto from 'node:crypto';
import { io as connect } from 'socket.io-client';
import { startSecStack, type SecStack } from '../test/security/harness.js';
import { runLoad } from './lib/load.js';
import { rootLogger } from '../src/logger.js';
import { fmt, printMachine } from './lib/stats.js';
import { median, restVotes, socketVotes, type Figure } from './lib/legit-votes.js';
import { limiterCost, type Cost } from './lib/limiter-cost.js';
import { Redis as IORedis } from 'ioredis';

const ABUSE_SECONDS = Number(process.env.ABUSE_SECONDS ?? 15);
const LEGIT_SECONDS = Number(process.env.LEGIT_SECONDS ?? 10);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const VOTERS = Number(process.env.VOTERS ?? 100);
const TOKEN = 'bench-abuse-token-0001';
// The service's log at warn (LOG_LEVEL overrides): an access-log line per vote would weigh on every mode.
rootLogger().level = process.env.LOG_LEVEL ?? 'warn';
printMachine();

// Budgets at their defaults; API_TOKEN set so a trusted caller exists; the log quiet.
const s: SecStack = ABUSE_SECONDS > 0 ? await startSecStack({ TRUST_PROXY: 'loopback', API_TOKEN: TOKEN, LIMIT_VOTES_PER_POLL: '20', LIMIT_NEW_VOTERS_PER_HOUR: '60', LIMIT_SOCKETS_PER_MINUTE: '120', LIMIT_CONTROL_PER_MINUTE: '60' }) : (null as never);
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

if (ABUSE_SECONDS > 0) try {
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

} finally {
  await s.close();
}

const rows: Record<string, Figure[]> = {};
const modes = [
  ['REST', 'no limiter (trusted caller: token + voterId)', () => restVotes('trusted', TOKEN, LEGIT_SECONDS, VOTERS)],
  ['REST', 'limits off (OPEN_LIMITS)', () => restVotes('off', TOKEN, LEGIT_SECONDS, VOTERS)],
  ['REST', 'default limits', () => restVotes('on', TOKEN, LEGIT_SECONDS, VOTERS)],
  ['socket', 'no limiter (no guard)', () => socketVotes('none', LEGIT_SECONDS, VOTERS)],
  ['socket', 'limits off (OPEN_LIMITS)', () => socketVotes('off', LEGIT_SECONDS, VOTERS)],
  ['socket', 'default limits', () => socketVotes('on', LEGIT_SECONDS, VOTERS)],
] as const;
console.log(`legit votes: ${VOTERS} clients, ${LEGIT_SECONDS} s per mode, ${ROUNDS} rounds (modes alternate within each round)`);
for (let round = 1; round <= ROUNDS; round++) {
  for (const [path, mode, run] of modes) {
    const f = await run();
    (rows[`${path}|${mode}`] ??= []).push(f);
    console.log(`  round ${round} ${path} ${mode}: ${fmt(f.votesPerS, 0)} votes/s, p50 ${fmt(f.p50, 2)} ms, p99 ${fmt(f.p99, 2)} ms, CPU ${fmt(f.cpuMsPerVote, 3)} ms/vote; other answers ${f.other}`);
  }
}
console.log(`medians of ${ROUNDS} rounds:`);
for (const path of ROUNDS > 0 ? ['REST', 'socket'] : []) {
  const of = (mode: string) => rows[`${path}|${mode}`];
  const med = (mode: string, k: keyof Omit<Figure, 'other'>) => median(of(mode).map((f) => f[k]));
  const base = modes.filter((m) => m[0] === path).map((m) => m[1]);
  for (const mode of base) {
    console.log(
      `  ${path.padEnd(6)} ${mode.padEnd(45)} ${fmt(med(mode, 'votesPerS'), 0).padStart(6)} votes/s  p50 ${fmt(med(mode, 'p50'), 2)} ms  p99 ${fmt(med(mode, 'p99'), 2)} ms  CPU ${fmt(med(mode, 'cpuMsPerVote'), 3)} ms/vote`,
    );
  }
  const [none, off, on] = base.map((m) => med(m, 'votesPerS'));
  // Ratio per round, then its median: each round's modes ran close together in time.
  const perRound = (a: string, b: string) => median(of(a).map((f, i) => f.votesPerS / of(b)[i].votesPerS));
  console.log(
    `  ${path}: default limits / limits off = ${fmt(on / off, 3)} (per-round median ${fmt(perRound(base[2], base[1]), 3)}); ` +
      `default limits / no limiter = ${fmt(on / none, 3)} (per-round median ${fmt(perRound(base[2], base[0]), 3)}); goal ≥ 0.90`,
  );
  // Throughput swings with whatever else the machine runs; CPU per vote is steadier.
  const cpu = (m: string) => med(m, 'cpuMsPerVote');
  console.log(`  ${path}: CPU per vote, default limits / no limiter = ${fmt(cpu(base[2]) / cpu(base[0]), 3)}; default limits / limits off = ${fmt(cpu(base[2]) / cpu(base[1]), 3)}`);
}

// The limiter alone, before (two rate-limiter-flexible consumes) and now (one batched script call).
const costRedis = new IORedis(process.env.REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const cost = await limiterCost(costRedis);
costRedis.disconnect();
const line = (c: Cost) => `web process ${fmt(c.nodeUs, 1)} µs CPU, Redis ${fmt(c.redisUs, 1)} µs CPU per vote (${fmt(c.votesPerS, 0)} checks/s)`;
console.log(`limiter alone, a new browser's vote (new-voter + vote budgets), 100 in flight, median of 3:`);
console.log(`  before (two RateLimiterRedis consumes): ${line(cost.before)}`);
console.log(`  now (Budgets.takeAll, one batched script call): ${line(cost.now)}`);
process.exit(0);
