// bee-queue loads its Lua scripts when a queue connects; a Redis that restarts empty forgets them.
// createQueue (src/queue.ts) must load them again through bee-queue's public API, for producers
// and workers alike, against a private redis-server this test kills and restarts.
import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import type Queue from 'bee-queue';
import { freePort, redisAnswers } from '../src/embedded/redis.js';
import { closeQueue, createQueue, loadQueueScripts } from '../src/queue.js';
import { createRedis, quit } from '../src/redis/index.js';
import type { Redis } from 'ioredis';
import { RUN_ID, sleep, waitFor } from './helpers/env.js';

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor(() => redisAnswers(`redis://127.0.0.1:${port}`, 300), 10_000, 100, 'redis-server to answer');
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

// Alone (the watcher opens its own client), and as the roles run it: watching the process's client.
for (const shared of [false, true]) {
  describe(`queue scripts after a Redis restart${shared ? " (watching the process's client)" : ''}`, function () {
    this.timeout(60_000);
    let client: Redis | undefined;
    let port: number;
    let url: string;
    let redisProc: ChildProcess;
    let producer: Queue<{ n: number }>;
    let worker: Queue<{ n: number }>;
    const seen: number[] = [];

    before(async () => {
      port = await freePort();
      url = `redis://127.0.0.1:${port}`;
      redisProc = await startRedis(port);
      const prefix = `bqs${RUN_ID}`;
      if (shared) {
        client = createRedis(url, 'test-process', { failFast: true });
        await new Promise((r) => client!.once('ready', r));
      }
      producer = createQueue('scripts-test', { redisUrl: url, prefix, isWorker: false, watch: client });
      worker = createQueue('scripts-test', { redisUrl: url, prefix, isWorker: true, watch: client });
      worker.process(async (job) => {
        seen.push(job.data.n);
      });
      await Promise.all([producer.ready(), worker.ready()]);
    });
    after(async () => {
      if (producer) await closeQueue(producer, 2000);
      if (worker) await closeQueue(worker, 2000);
      if (client) await quit(client);
      redisProc?.kill('SIGKILL');
    });

    it('loadQueueScripts loads them into an empty Redis and is harmless when they are there', async () => {
      await loadQueueScripts(url);
      await loadQueueScripts(url);
    });

    it('a producer enqueues and a worker processes jobs again once Redis is back, empty', async () => {
      await producer.createJob({ n: 1 }).save();
      await waitFor(() => seen.includes(1), 20_000, 50, 'job 1 to be processed');

      await stopRedis(redisProc);
      await sleep(300);
      redisProc = await startRedis(port);
      expect(await redisAnswers(url)).to.equal(true);

      // Without the reload every save fails with NOSCRIPT for ever; with it, within a reconnect.
      let lastError = '';
      await waitFor(
        async () => {
          try {
            await producer.createJob({ n: 2 }).save();
            return true;
          } catch (err) {
            lastError = (err as Error).message;
            return false;
          }
        },
        30_000,
        200,
        'a job to be saved after the restart',
      ).catch((err) => {
        throw new Error(`${(err as Error).message} (last error: ${lastError})`);
      });
      await waitFor(() => seen.includes(2), 30_000, 50, 'job 2 to be processed after the restart');
    });
  });
}
