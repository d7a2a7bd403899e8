// `npm start` as a terminal runs it: its own process group, Ctrl-C to the whole group, SIGTERM
// to the process, SIGKILL. Every time: a clean exit, the private Redis and PostgreSQL stopped
// last, no process left (checked with ps), and acknowledged votes kept.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { ROOT } from './helpers/proc.js';
import { waitFor, RUN_ID } from './helpers/env.js';
import { freePort, redisAnswers } from '../src/embedded/redis.js';

interface Started {
  child: ChildProcess;
  output: () => string;
  port: number;
  redisPort: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start` (node --import tsx src/main.ts) in a process group of its own, as a shell does. */
async function startMain(dataDir: string, env: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  const redisPort = Number(env.REDIS_PORT ?? (await freePort()));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'development',
      LOG_FORMAT: 'pretty',
      LOG_LEVEL: 'info',
      PORT: String(port),
      RTMP_PORT: String(await freePort()),
      RTMP_URL: '',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      EMBEDDED_REDIS_FALLBACK_PORT: String(await freePort()),
      DATABASE_URL: '',
      EMBEDDED_DB: 'auto',
      DATA_DIR: dataDir,
      QUEUE_PREFIX: `bq-life-${RUN_ID}`,
      ...env,
    },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  await waitFor(() => /Stream Fighter is up/.test(out) || child.exitCode !== null, 40_000, 50, 'the banner');
  if (!/Stream Fighter is up/.test(out)) throw new Error(`npm start failed:\n${out}`);
  return { child, output: () => out, port, redisPort: Number(/redis-cli -h \S+ -p (\d+)/.exec(out)![1]), exited };
}

/** Every live process whose command line names `needle`, or that is in process group `pgid`. */
function leftovers(needles: string[], pgid?: number): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .filter((l) => l.trim())
    .filter((l) => {
      const [pid, group] = l.trim().split(/\s+/).map(Number);
      if (pid === process.pid) return false;
      return (pgid !== undefined && group === pgid) || needles.some((n) => l.includes(n));
    });
}

// No cookie: the server issues each request a new voter identity (as for a new browser).
const vote = (port: number, option: string) =>
  fetch(`http://127.0.0.1:${port}/api/vote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ option }) });

describe('npm start lifecycle', function () {
  this.timeout(120_000);
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-life-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  async function expectGone(s: Started, started: number) {
    await waitFor(() => leftovers([dataDir, `--port ${s.redisPort} `], s.child.pid).length === 0, 10_000, 100, 'no process left').catch(() => {
      throw new Error(`left running:\n${leftovers([dataDir, `--port ${s.redisPort} `], s.child.pid).join('\n')}`);
    });
    expect(await redisAnswers(`redis://127.0.0.1:${s.redisPort}`, 300)).to.equal(false);
    expect(Date.now() - started).to.be.below(20_000);
  }

  it('prints one banner: dashboard, vote, playback, the private Redis with its redis-cli line, the database', async () => {
    const s = await startMain(dataDir);
    try {
      const out = s.output();
      expect(out.match(/Stream Fighter is up/g)).to.have.length(1);
      expect(out).to.match(new RegExp(`dashboard\\s+http://localhost:${s.port}/`));
      expect(out).to.match(new RegExp(`vote\\s+http://localhost:${s.port}/vote.html`));
      expect(out).to.match(/playback\s+(ffplay rtmp:\/\/localhost:\d+\/live\/default|previews only)/);
      expect(out).to.match(new RegExp(`redis\\s+redis://127.0.0.1:${s.redisPort} \\(private, not kept\\)\\s+redis-cli -h 127.0.0.1 -p ${s.redisPort}`));
      expect(out).to.match(/database\s+(private PostgreSQL|embedded PGlite)/);
    } finally {
      process.kill(-s.child.pid!, 'SIGINT');
      await s.exited;
    }
  });

  it('Ctrl-C (SIGINT to the process group) shuts down cleanly, Redis last, nothing left', async () => {
    const s = await startMain(dataDir);
    const t0 = Date.now();
    process.kill(-s.child.pid!, 'SIGINT');
    expect(await s.exited).to.deep.equal({ code: 0, signal: null });
    expect(s.output()).to.match(/shutdown complete/);
    expect(s.output()).not.to.match(/second SIGINT|max retries|shutdown step .* failed/);
    await expectGone(s, t0);
  });

  it('SIGTERM to the process shuts down cleanly, nothing left', async () => {
    const s = await startMain(dataDir);
    const t0 = Date.now();
    s.child.kill('SIGTERM');
    expect(await s.exited).to.deep.equal({ code: 0, signal: null });
    expect(s.output()).not.to.match(/shutdown step .* failed/);
    await expectGone(s, t0);
  });

  it('the private Redis takes the fallback port when the first is taken', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const fallback = await freePort();
    try {
      const s = await startMain(dataDir, { REDIS_PORT: String(taken), EMBEDDED_REDIS_FALLBACK_PORT: String(fallback) });
      expect(s.redisPort).to.equal(fallback);
      s.child.kill('SIGTERM');
      await s.exited;
      await expectGone(s, Date.now());
    } finally {
      blocker.close();
    }
  });

  it('acknowledged votes survive SIGKILL of the app and of its database; the watchdogs leave nothing', async () => {
    const s = await startMain(dataDir);
    const poll = (await (await fetch(`http://127.0.0.1:${s.port}/api/poll`)).json()) as { id: number; options: Array<{ key: string }> };
    const option = poll.options[0].key;
    for (let i = 0; i < 5; i++) expect((await vote(s.port, option)).status).to.equal(200);
    // A power cut for the app: SIGKILL, and SIGKILL to the postmaster too if it is a private PostgreSQL.
    const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
    const pgPid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
    process.kill(s.child.pid!, 'SIGKILL');
    if (pgPid) process.kill(pgPid, 'SIGKILL');
    await s.exited;
    await expectGone(s, Date.now());

    const again = await startMain(dataDir);
    try {
      const res = (await (await fetch(`http://127.0.0.1:${again.port}/api/polls/${poll.id}`)).json()) as { total: number };
      expect(res.total, JSON.stringify(res)).to.equal(5);
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  });
});

describe('worker-health (per-replica compose healthcheck)', () => {
  it('is healthy only while a worker of THIS host beats', async () => {
    const { Redis } = await import('ioredis');
    const { keys } = await import('../src/keys.js');
    const { workerHealthy } = await import('../src/worker-health.js');
    const { REDIS_URL } = await import('./helpers/env.js');
    const redis = new Redis(REDIS_URL);
    const mine = `hc-${RUN_ID}-a`;
    const other = `hc-${RUN_ID}-b`;
    try {
      await redis.zadd(keys.workers(), Date.now(), `${other}-1-abc`);
      await redis.set(keys.worker(`${other}-1-abc`), '{}', 'EX', 10);
      expect((await workerHealthy(REDIS_URL, mine, 10_000)).ok, 'another replica beating').to.equal(false);
      await redis.zadd(keys.workers(), Date.now(), `${mine}-7-def`);
      await redis.set(keys.worker(`${mine}-7-def`), '{}', 'EX', 10);
      expect((await workerHealthy(REDIS_URL, mine, 10_000)).ok).to.equal(true);
      await redis.zadd(keys.workers(), Date.now() - 60_000, `${mine}-7-def`);
      expect((await workerHealthy(REDIS_URL, mine, 10_000)).ok, 'stale beat').to.equal(false);
      expect((await workerHealthy('redis://127.0.0.1:1', mine, 10_000)).why).to.match(/^Redis:/);
    } finally {
      await redis.zrem(keys.workers(), `${mine}-7-def`, `${other}-1-abc`);
      await redis.del(keys.worker(`${mine}-7-def`), keys.worker(`${other}-1-abc`));
      redis.disconnect();
    }
  });
});
