// Start the real service for a benchmark: web and worker as separate child processes (so
// their CPU and memory can be read apart), run from the production build (`npm run build`,
// node dist/*.js) as in production, against the local Redis.

let built = false;
function build(): void {
  if (built || process.env.BENCH_TSX) return;
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { ROOT } from '../../test/helpers/proc.js';
import { spawnWeb, spawnWorker, type Proc } from '../../test/helpers/proc.js';

import { OPEN_LIMITS } from '../../test/helpers/env.js';

export async function startService(extraEnv: Record<string, string> = {}) {
  const env = {
    NODE_ENV: 'production',
    API_TOKEN: 'bench-token-0000',
    LOG_FORMAT: 'pretty',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    // A PostgreSQL server, as in production (the embedded PGlite adds ~200 MB to the web process).
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    QUEUE_PREFIX: `bqbench${crypto.randomBytes(2).toString('hex')}`,
    HOST: '127.0.0.1',
    // Every bench client is 127.0.0.1: one address is no audience (bench/abuse.ts measures the budgets).
    ...OPEN_LIMITS,
    ...extraEnv,
  };
  build();
  const opts = { built: !process.env.BENCH_TSX };
  const [web, worker] = await Promise.all([spawnWeb(env, opts), spawnWorker(env, opts)]);
  const procs: Proc[] = [web, worker];
  return {
    web,
    worker,
    env,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${env.API_TOKEN}` },
    async close() {
      await Promise.all(procs.map((p) => p.kill('SIGTERM')));
      // SIGTERM hands streams over and keeps them requested (as in production): forget this
      // run's requests so nothing resumes them (they are scoped to this run's QUEUE_PREFIX anyway).
      const { default: pg } = await import('pg');
      const db = new pg.Client({ connectionString: env.DATABASE_URL });
      await db.connect();
      const left = await db.query<{ stream_key: string }>('DELETE FROM requested_streams WHERE scope = $1 RETURNING stream_key', [env.QUEUE_PREFIX]).catch(() => ({ rows: [] }));
      await db.end();
      // Their parity state too, or the next run's start of the same key answers 409.
      if (left.rows.length > 0) {
        const { Redis } = await import('ioredis');
        const redis = new Redis(env.REDIS_URL);
        await redis.del(...left.rows.map((r) => `streaming:state:${r.stream_key}`));
        redis.disconnect();
      }
    },
  };
}
