// For a laptop: when no Redis answers at REDIS_URL and `redis-server` is on PATH, run a private
// one (no persistence) for the life of this process, stopped last (see guarded.ts).
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { Redis } from 'ioredis';
import { log } from '../logger.js';
import { spawnGuarded, type GuardedProcess } from './guarded.js';

const logger = log('APP');

export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, commandTimeout: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export class RedisUnavailable extends Error {}

/** True when nothing listens on 127.0.0.1:port. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Whether ensureRedis may start a private redis-server: allowed, and one is on PATH. */
export function canRunPrivateRedis(allowEmbedded: boolean): boolean {
  // Looked up, not run (`redis-server --version` blocked start-up for ~50 ms): a broken binary
  // is reported when it fails to start.
  return allowEmbedded && (process.env.PATH ?? '').split(path.delimiter).some((d) => d && isExecutable(path.join(d, 'redis-server')));
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export interface EmbeddedRedis {
  url: string;
  /** Set when we started a private redis-server: stop it last. */
  server?: GuardedProcess;
}

/**
 * Returns the Redis to use. When none answers at `url` we start a private one on a port a user
 * can guess: the URL's port (6379) when free, else `fallbackPort` (6380), else any free port;
 * the start-up banner says which, with the redis-cli line.
 */
export async function ensureRedis(url: string, allowEmbedded: boolean, fallbackPort = 6380): Promise<EmbeddedRedis> {
  if (await redisAnswers(url)) return { url };
  if (!canRunPrivateRedis(allowEmbedded)) {
    throw new RedisUnavailable(
      `cannot reach Redis at ${url}. Start one (e.g. \`redis-server\`, \`docker run -p 6379:6379 redis\`), ` +
        `set REDIS_URL, or install redis-server so \`npm start\` can run a private one.`,
    );
  }
  const wanted = Number(new URL(url).port || 6379);
  const port = (await portFree(wanted)) ? wanted : (await portFree(fallbackPort)) ? fallbackPort : await freePort();
  const server = spawnGuarded('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stopSignal: 'SIGTERM',
  });
  const embeddedUrl = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && server.child.exitCode === null; i++) {
    if (await redisAnswers(embeddedUrl, 500)) {
      logger.warn(`no Redis at ${url}: started a private redis-server on port ${port} (data is not kept)`);
      return { url: embeddedUrl, server };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await server.stop(1000);
  throw new RedisUnavailable(`cannot reach Redis at ${url}, and a private redis-server did not start`);
}
