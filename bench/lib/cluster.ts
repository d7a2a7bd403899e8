// A small cluster for the resilience benchmarks: one web and N workers as child processes (from
// the production build, as in production; BENCH_TSX=1 runs the sources with tsx), sharing a
// Redis, a PostgreSQL database and an RTMP server.
import crypto from 'node:crypto';
import pg from 'pg';
import { execFileSync } from 'node:child_process';
import { ROOT, spawnWeb, spawnWorker as spawnWorkerEntry, type Proc } from '../../test/helpers/proc.js';

const built = !process.env.BENCH_TSX;
let builtOnce = false;
function build(): void {
  if (!built || builtOnce || process.env.BENCH_NO_BUILD) return;
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  builtOnce = true;
}

export function spawnWorker(env: Record<string, string>): Promise<Worker> {
  return spawnWorkerEntry(env, { built });
}

export type Worker = Proc & { workerId: string };

export function clusterEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    API_TOKEN: 'bench-token-0000',
    LOG_FORMAT: 'pretty',
    LOG_LEVEL: 'warn',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    QUEUE_PREFIX: `bqres${crypto.randomBytes(2).toString('hex')}`,
    HOST: '127.0.0.1',
    WIDTH: process.env.BENCH_WIDTH ?? '640',
    HEIGHT: process.env.BENCH_HEIGHT ?? '360',
    VIDEO_BITRATE: process.env.BENCH_BITRATE ?? '1000k',
    // These benchmarks run a fixed number of streams: with measured admission a busy machine would
    // keep a new one waiting for capacity (bench/overload.ts measures that). BENCH_ADMISSION=measured
    // puts it back (streams already on air are taken over whatever the headroom).
    ADMISSION: process.env.BENCH_ADMISSION ?? 'off',
    ...extra,
  };
}

export async function startCluster(env: Record<string, string>, workers: number) {
  build();
  const web = await spawnWeb(env, { built });
  const ws: Worker[] = [];
  for (let i = 0; i < workers; i++) ws.push(await spawnWorker(env));
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${env.API_TOKEN}` };
  return {
    web,
    workers: ws,
    headers,
    async post(path: string, body: unknown) {
      const res = await fetch(`${web.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    async stop(streamKey: string) {
      await fetch(`${web.url}/api/stream?streamKey=${streamKey}`, { method: 'DELETE', headers });
    },
    async close() {
      await Promise.all([web, ...ws].map((p) => p.kill('SIGKILL')));
      // The benchmark's requested streams must not come back in a later run's reconciler.
      const client = new pg.Client({ connectionString: env.DATABASE_URL });
      await client.connect().then(() => client.query(`DELETE FROM requested_streams WHERE stream_key LIKE 'bench-%'`)).catch(() => {});
      await client.end().catch(() => {});
    },
  };
}
