// How many Redis connections a process opens (issue 8: "about ten per web process" before).
// The roles, wired as src/web.ts and src/main.ts wire them, against a private redis-server so
// CLIENT LIST shows nobody else: ours are the two named `stream-fighter:<name>` and
// `…:<name>-sub`; the unnamed rest are bee-queue's own node_redis connections (one per
// producer queue, two per worker queue: the command client and the blocking BRPOPLPUSH one).
import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { freePort, redisAnswers } from '../src/embedded/redis.js';
import { connectRedis, openDb, runWeb, runWorker, type WebRole } from '../src/roles.js';
import type { WorkerRuntime } from '../src/jobs/runtime.js';
import type { Database } from '../src/db/index.js';
import type { RedisConnections } from '../src/redis/index.js';
import { testConfig, waitFor } from './helpers/env.js';

const PROBE = 'connection-count-probe';

describe('Redis connections per process', function () {
  this.timeout(60_000);
  let proc: ChildProcess;
  let url: string;
  let probe: Redis;
  let db: Database;

  before(async () => {
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(() => redisAnswers(url, 300), 10_000, 100, 'redis-server to answer');
    probe = new Redis(url, { connectionName: PROBE });
    db = await openDb(testConfig({ REDIS_URL: url }));
  });
  after(async () => {
    probe?.disconnect();
    await db?.close();
    proc?.kill('SIGKILL');
  });

  /** Names of the connected clients other than the probe ('' for unnamed ones). */
  async function clients(): Promise<string[]> {
    const list = (await probe.client('LIST')) as string;
    return list
      .trim()
      .split('\n')
      .map((line) => / name=(\S*)/.exec(line)?.[1] ?? '')
      .filter((n) => n !== PROBE)
      .sort();
  }

  /** Waits until the count settles (bee-queue connects in the background). */
  async function settled(expected: number): Promise<string[]> {
    return waitFor(async () => {
      const c = await clients();
      return c.length === expected ? c : null;
    }, 10_000, 100, `${expected} connections`).catch(async (err) => {
      throw new Error(`${err.message}; connected: ${JSON.stringify(await clients())}`);
    });
  }

  it('the web role: one command client and one subscriber (+3 bee-queue producers)', async () => {
    const cfg = testConfig({ REDIS_URL: url });
    let conns: RedisConnections | undefined;
    let web: WebRole | undefined;
    try {
      conns = await connectRedis(cfg, 'web');
      web = await runWeb(cfg, db, conns);
      const names = await settled(5);
      expect(names.filter((n) => n.startsWith('stream-fighter:'))).to.deep.equal(['stream-fighter:web', 'stream-fighter:web-sub']);
      expect(names.filter((n) => n === '')).to.have.length(3);
    } finally {
      await web?.close();
      await conns?.close();
    }
    await settled(0);
  });

  it('both roles in one process (npm start): the same two (+3 web producers, +6 for the worker queues, +3 worker producers for hand-overs and the reconciler)', async () => {
    const cfg = testConfig({ REDIS_URL: url, RTMP_URL: 'off' });
    let conns: RedisConnections | undefined;
    let web: WebRole | undefined;
    let worker: WorkerRuntime | undefined;
    try {
      conns = await connectRedis(cfg, 'main');
      web = await runWeb(cfg, db, conns);
      worker = await runWorker(cfg, db, conns);
      const names = await settled(14);
      // The worker names the command client after itself (streams/holders.ts).
      expect(names.filter((n) => n.startsWith('stream-fighter:'))).to.deep.equal(['stream-fighter:main-sub', `stream-fighter:worker:${worker.workerId}`]);
      expect(names.filter((n) => n === '')).to.have.length(12);
    } finally {
      await worker?.close();
      await web?.close();
      await conns?.close();
    }
    await settled(0);
  });
});
