// GET /api/poll: 50 concurrent keep-alive connections for 10 s against the in-process web
// app, while a trickle of votes changes the counts; requests/s, p50/p99, and how many
// Postgres queries the reads caused (the goal: none — the poll is served from memory).
// Twice: through Express (createApp + pollRouter), then with installPollFastPath().
// BENCH_DB=pg|pglite|both, CONNECTIONS, BENCH_SECONDS.
import { installPollFastPath } from '../src/routes/poll.js';
import { benchKinds, startPollApp } from './lib/poll-app.js';
import { runLoad } from './lib/load.js';
import { fmt, percentile, printMachine } from './lib/stats.js';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
let failed = false;
printMachine();

for (const kind of benchKinds()) {
  const app = await startPollApp(kind);
  try {
    await app.polls.generate({ draft: { question: 'Bench: who wins?', options: ['Ryu', 'Ken'] } });
    // Count queries on the pool from here on (votes excepted: 1 batch INSERT each, counted apart).
    const pool = app.t.db.pool as any;
    const original = pool.query.bind(pool);
    let queries = 0;
    pool.query = (...args: any[]) => {
      queries++;
      return original(...args);
    };
    let votes = 0;
    const trickle = setInterval(() => {
      app.polls.vote(votes % 2 ? 'A' : 'B', `reader-bench-${votes++}`).catch(() => undefined);
    }, 100);
    for (const mode of ['express', 'fast path'] as const) {
      const uninstall = mode === 'fast path' ? installPollFastPath(app.server, app.polls) : undefined;
      const q0 = queries;
      const v0 = votes;
      const r = await runLoad({ url: `${app.base}/api/poll`, method: 'GET', clients: CONNECTIONS, seconds: SECONDS });
      uninstall?.();
      const ok = r.statuses['200'] ?? 0;
      console.log(
        `poll-read [${kind.name}, ${mode}] ${CONNECTIONS} connections, ${fmt(r.seconds)} s: ${ok} OK = ${fmt(ok / r.seconds, 0)} req/s; ` +
          `latency p50 ${fmt(percentile(r.latenciesMs, 50), 2)} ms, p99 ${fmt(percentile(r.latenciesMs, 99), 2)} ms; statuses ${JSON.stringify(r.statuses)}`,
      );
      console.log(`  Postgres queries during the run: ${queries - q0}, votes cast meanwhile: ${votes - v0} (one INSERT each; reads hit memory)`);
      if (r.errors.length || ok !== r.requests) {
        failed = true;
        console.log('  errors:', r.errors);
      }
    }
    clearInterval(trickle);
  } finally {
    await app.close();
  }
}
process.exit(failed ? 1 : 0);
