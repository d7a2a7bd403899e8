// `npm start` footprint: time from spawn to a healthy /api/health on a first start (empty
// DATA_DIR) and on later starts, the main process's idle RSS, and its RSS with one 1280×720
// 30 fps stream, for each database `npm start` can use: the embedded default (a private
// PostgreSQL when binaries are found), PGlite, and a PostgreSQL server (DATABASE_URL).
// Redis is the private one `npm start` runs. FOOTPRINT_DBS=private,pglite,server picks;
// BENCH_DATABASE_URL (default TEST_DATABASE_URL, else the local server) is the server's.
// It runs package.json's `start` command line (what `npm start` runs, without npm itself).
// FOOTPRINT_RUNS=3 repeats the first/later starts with a fresh DATA_DIR each and prints the
// medians; FOOTPRINT_STARTS_ONLY=1 skips the RSS and streaming part.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { ROOT } from '../test/helpers/proc.js';
import { freePort } from '../src/embedded/redis.js';
import { procUsage, sampleRss, fmt, printMachine } from './lib/stats.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SERVER_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DBS = (process.env.FOOTPRINT_DBS ?? 'private,pglite,server').split(',');
const IDLE_MS = Number(process.env.IDLE_SECONDS ?? 8) * 1000;
const RUNS = Number(process.env.FOOTPRINT_RUNS ?? 1);
const STARTS_ONLY = process.env.FOOTPRINT_STARTS_ONLY === '1';

/** `npm start`'s command line (package.json), `node` being this node. */
function startCommand(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [cmd, ...args] = pkg.scripts.start.split(/\s+/);
  if (cmd !== 'node') throw new Error(`npm start is not a node command line: ${pkg.scripts.start}`);
  return args;
}

type Variant = { name: string; env: Record<string, string> };
const VARIANTS: Record<string, Variant> = {
  private: { name: 'embedded default (EMBEDDED_DB=auto)', env: { DATABASE_URL: '', EMBEDDED_DB: 'auto' } },
  pglite: { name: 'PGlite (EMBEDDED_DB=pglite)', env: { DATABASE_URL: '', EMBEDDED_DB: 'pglite' } },
  server: { name: `PostgreSQL server (DATABASE_URL)`, env: { DATABASE_URL: SERVER_URL } },
};

/** RSS of every descendant of `pid` (the private Redis and PostgreSQL, FFmpeg), in MB. */
function descendantsRss(pid: number): number {
  const ps = execFileSync('ps', ['-eo', 'pid=,ppid=,rss='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const kids = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, pp] of ps) if (kids.has(pp) && !kids.has(p)) (kids.add(p), (grew = true));
  }
  return ps.filter(([p]) => p !== pid && kids.has(p)).reduce((n, [, , rss]) => n + rss / 1024, 0);
}

async function startOnce(dataDir: string, env: Record<string, string>) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, startCommand(), {
    cwd: ROOT,
    detached: true,
    stdio: 'ignore',
    env: {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      RTMP_PORT: String(await freePort()),
      RTMP_URL: '',
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      EMBEDDED_REDIS_FALLBACK_PORT: String(await freePort()),
      DATA_DIR: dataDir,
      QUEUE_PREFIX: `bqfoot${process.pid}`,
      ...env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/api/health`).then((r) => r.ok, () => false);
    if (ok) break;
    await sleep(25);
  }
  const startMs = performance.now() - t0;
  const exited = new Promise((r) => child.on('exit', r));
  return {
    pid: child.pid!,
    url,
    startMs,
    async stop() {
      process.kill(-child.pid!, 'SIGINT');
      await exited;
    },
  };
}

/** First start on an empty DATA_DIR, then two later starts; the last one is left running. */
async function threeStarts(dataDir: string, env: Record<string, string>) {
  const starts: number[] = [];
  for (let i = 0; ; i++) {
    const s = await startOnce(dataDir, env);
    starts.push(s.startMs);
    if (i === 2) return { starts, last: s };
    await s.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function measure(v: Variant) {
  const firsts: number[] = [];
  const laters: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-footprint-'));
    try {
      const { starts, last: s } = await threeStarts(dataDir, v.env);
      firsts.push(starts[0]);
      laters.push(starts[1], starts[2]);
      const times = `first start ${fmt(starts[0] / 1000, 2)} s, later ${fmt(starts[1] / 1000, 2)} s / ${fmt(starts[2] / 1000, 2)} s`;
      if (STARTS_ONLY || run < RUNS - 1) {
        await s.stop();
        console.log(`${v.name.padEnd(38)} ${times}`);
        continue;
      }
      await sleep(IDLE_MS);
      const idle = procUsage(s.pid).rssMB;
      const idleServers = descendantsRss(s.pid);
      const key = `foot${process.pid}`;
      const r = await fetch(`${s.url}/api/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ streamKey: key, screenId: 'poll', fps: 5 }) });
      if (!r.ok) throw new Error(`start stream: ${r.status} ${await r.text()}`);
      const deadline = Date.now() + 30_000;
      let status = { frames: 0 };
      while (Date.now() < deadline && status.frames < 60) {
        await sleep(250);
        status = (await (await fetch(`${s.url}/stream/status?streamKey=${key}`)).json()) as { frames: number };
      }
      const sampler = sampleRss(s.pid);
      const f0 = status.frames;
      await sleep(10_000);
      const fps = ((await (await fetch(`${s.url}/stream/status?streamKey=${key}`)).json()) as { frames: number }).frames - f0;
      const streaming = sampler.stop();
      const withChildren = descendantsRss(s.pid);
      await s.stop();
      console.log(
        `${v.name.padEnd(38)} ${times}; ` +
          `idle RSS ${fmt(idle, 0)} MB (+${fmt(idleServers, 0)} MB Redis/DB processes); ` +
          `one 720p30 stream: ${fmt(streaming.peakMB, 0)} MB peak (+${fmt(withChildren, 0)} MB incl. FFmpeg), ${fmt(fps / 10, 1)} fps`,
      );
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (RUNS > 1) {
    console.log(`${v.name.padEnd(38)} median of ${RUNS}: first start ${fmt(median(firsts) / 1000, 2)} s, later starts ${fmt(median(laters) / 1000, 2)} s (of ${laters.length})`);
  }
}

printMachine();
// scripts/start.mjs runs dist/ only when it is the build of the current src/ (else tsx).
const { distIsFresh } = (await import(path.join(ROOT, 'scripts/dist-stamp.mjs'))) as { distIsFresh: (root: string) => boolean };
console.log(`npm start = node ${startCommand().join(' ')}: ${distIsFresh(ROOT) ? 'runs the build in dist/' : 'runs src/ through tsx (no build, or src/ changed since: npm run build)'}`);
for (const name of DBS) await measure(VARIANTS[name]);
