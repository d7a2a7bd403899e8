// Votes over socket.io: 100 clients (2 client processes) cast as fast as they are allowed (the
// per-socket token bucket: 60/s, burst 30) for 20 s against one web process with a per-vote
// Redis tally (test/fixtures/redis-poll.ts: one atomic Lua HINCRBY per vote, the shape of the
// PollService's live tally). Prints votes/s accepted and refused, ack latency, server CPU, and
// checks that the final tally equals the accepted votes exactly.
// Env: VOTERS, SECONDS, RATE (attempts per client per second, default 70: a little over the
// limit), VOTE_RATE (the server's per-socket limit, to find its capacity).
import crypto from 'node:crypto';
import os from 'node:os';
import { Redis } from 'ioredis';
import { TestPolls } from '../test/fixtures/redis-poll.js';
import { REDIS_URL, fmt, monitor, percentile, startClients, startServer } from './realtime/lib.js';

const VOTERS = Number(process.env.VOTERS ?? 100);
const SECONDS = Number(process.env.SECONDS ?? 20);
const RATE = Number(process.env.RATE ?? 70);
const PROCS = 2;
const OPTIONS = ['A', 'B', 'C', 'D'];

const redis = new Redis(REDIS_URL);
const polls = new TestPolls(redis, `bench-${crypto.randomBytes(4).toString('hex')}`);
await polls.create('Bench poll', OPTIONS);
const server = await startServer({ POLL_NS: polls.ns, ...(process.env.VOTE_RATE ? { VOTE_RATE: process.env.VOTE_RATE } : {}) });
const procs = Array.from({ length: PROCS }, () => startClients());
console.log(
  `realtime votes: ${VOTERS} clients × ${RATE} attempts/s for ${SECONDS} s (limit ${process.env.VOTE_RATE ?? 60}/s per socket, burst 30), one web process; ` +
    `${os.cpus().length} cores shared by server, clients and Redis (loopback)`,
);
try {
  const mon = monitor(server.pid);
  const results = await Promise.all(
    procs.map((p) =>
      p.request<{ accepted: Record<string, number>; refused: number; other: number; ackMs: number[]; startedAt: number; endedAt: number }>({
        cmd: 'votes',
        url: server.url,
        count: VOTERS / PROCS,
        ratePerClient: RATE,
        durationMs: SECONDS * 1000,
        options: OPTIONS,
      }),
    ),
  );
  // The voting window: first vote sent to last ack received, over every client process.
  const secs = (Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt))) / 1000;
  const stats = mon.stop();
  const accepted: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.accepted)) accepted[k] = (accepted[k] ?? 0) + v;
  const total = Object.values(accepted).reduce((a, b) => a + b, 0);
  const refused = results.reduce((n, r) => n + r.refused, 0);
  const other = results.reduce((n, r) => n + r.other, 0);
  const ack = Float64Array.from(results.flatMap((r) => r.ackMs)).sort();
  const tally = await polls.tally();
  const exact = OPTIONS.every((o) => (tally[o] ?? 0) === (accepted[o] ?? 0));
  console.log(
    `accepted ${total} votes in ${fmt(secs, 1)} s = ${fmt(total / secs, 0)} votes/s; refused (rate limit) ${fmt(refused / secs, 0)}/s; ` +
      `other errors ${other}; ack latency p50 ${fmt(percentile(ack, 50), 1)} ms p99 ${fmt(percentile(ack, 99), 1)} ms; ` +
      `server CPU ${fmt(stats.cpuPercent, 0)}% RSS max ${fmt(stats.rssMaxMiB, 0)} MiB`,
  );
  console.log(`final tally ${JSON.stringify(tally)} vs accepted ${JSON.stringify(accepted)}: ${exact ? 'exact' : 'MISMATCH'}`);
  if (!exact) process.exitCode = 1;
} finally {
  await Promise.all(procs.map((p) => p.request({ cmd: 'close' }).catch(() => undefined)));
  procs.forEach((p) => p.stop());
  await server.stop();
  await polls.cleanup();
  redis.disconnect();
}
process.exit(process.exitCode ?? 0);
