// PollService.vote() without HTTP — what the socket.io layer calls for `vote:cast`: 500
// votes in flight for 10 s (each a new voter), votes/s and p50/p99, tallies checked exactly
// in Redis and Postgres. BENCH_DB=pg|pglite|both, IN_FLIGHT, BENCH_SECONDS.
import { countVotes } from '../src/polls/repo.js';
import { benchKinds, startPollApp } from './lib/poll-app.js';
import { fmt, percentile, printMachine } from './lib/stats.js';

const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
let failed = false;
printMachine();

for (const kind of benchKinds()) {
  const app = await startPollApp(kind);
  try {
    const { poll } = await app.polls.generate({ draft: { question: 'Bench: who wins?', options: ['Ryu', 'Ken', 'Chun-Li', 'Akuma'] } });
    const sent: Record<string, number> = { A: 0, B: 0, C: 0, D: 0 };
    const lat: number[] = [];
    let errors = 0;
    const t0 = Date.now();
    const deadline = t0 + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async (_, c) => {
        for (let i = 0; Date.now() < deadline; i++) {
          const option = 'ABCD'[(c + i) % 4];
          const s = performance.now();
          try {
            await app.polls.vote(option, `s-${c}-${i}`);
            sent[option]++;
            lat.push(performance.now() - s);
          } catch {
            errors++;
          }
        }
      }),
    );
    const secs = (Date.now() - t0) / 1000;
    const accepted = lat.length;
    const redis = await app.redis.hgetall(app.polls.store.k.tally(poll.id));
    const pg = await countVotes(app.t.db.pool, poll.id);
    const exactRedis = Object.keys(sent).every((k) => Number(redis[k]) === sent[k]);
    const exactPg = Object.keys(sent).every((k) => (pg[k] ?? 0) === sent[k]);
    console.log(
      `votes-service [${kind.name}] ${IN_FLIGHT} in flight, ${fmt(secs)} s: ${accepted} accepted = ${fmt(accepted / secs, 0)} votes/s; ` +
        `latency p50 ${fmt(percentile(lat, 50), 2)} ms, p99 ${fmt(percentile(lat, 99), 2)} ms; errors ${errors}; ` +
        `Redis ${exactRedis ? 'EXACT' : 'MISMATCH'}, Postgres ${exactPg ? 'EXACT' : 'MISMATCH'}`,
    );
    if (!exactRedis || !exactPg || errors) failed = true;
  } finally {
    await app.close();
  }
}
process.exit(failed ? 1 : 0);
