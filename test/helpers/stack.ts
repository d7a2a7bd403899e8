// An in-process web + worker against the real Redis, for tests that need the whole loop.
import { Redis } from 'ioredis';
import type { Config } from '../../src/config.js';
import { setDefaultStreamKey } from '../../src/keys.js';
import { startWeb, type WebExtras, type WebHandle } from '../../src/web-server.js';
import { WorkerRuntime, type WorkerOptions } from '../../src/jobs/runtime.js';
import { openRedis, type RedisConnections } from '../../src/redis/index.js';
import { testConfig } from './env.js';

export interface Stack {
  config: Config;
  web: WebHandle;
  worker: WorkerRuntime | null;
  url: string;
  redis: Redis;
  /** The process's connections (web and worker share them, as with `npm start`). */
  conns: RedisConnections;
  close(): Promise<void>;
}

export async function startStack(
  opts: { env?: Record<string, string>; worker?: boolean; workerOptions?: WorkerOptions; web?: WebExtras } = {},
): Promise<Stack> {
  const config = testConfig(opts.env);
  setDefaultStreamKey(config.DEFAULT_STREAM_KEY);
  const conns = await openRedis(config.REDIS_URL, 'test-stack');
  const web = await startWeb(config, conns, opts.web);
  let worker: WorkerRuntime | null = null;
  if (opts.worker !== false) {
    worker = new WorkerRuntime(config, conns, opts.workerOptions);
    await worker.start();
  }
  const redis = new Redis(config.REDIS_URL);
  redis.on('error', () => {}); // tests that stop Redis on purpose
  return {
    config,
    web,
    worker,
    url: `http://127.0.0.1:${web.port}`,
    redis,
    conns,
    async close() {
      await worker?.close();
      await web.close();
      await conns.close();
      await deleteKeys(redis, `${config.QUEUE_PREFIX}:*`).catch(() => {});
      redis.disconnect();
    },
  };
}

/** Delete keys by pattern (test-owned prefixes only). */
export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (found.length) await redis.del(...found);
  } while (cursor !== '0');
}
