// For a laptop: when no Redis answers at REDIS_URL and `redis-server` is on PATH, run a private
// one (no persistence) for the life of this process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';
import { log } from '../logger.js';

const logger = log('APP');

export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
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

/** Returns the URL to use and, when we started one, the child to stop. */
export async function ensureRedis(url: string, allowEmbedded: boolean): Promise<{ url: string; child?: ChildProcess }> {
  if (await redisAnswers(url)) return { url };
  const hasServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!allowEmbedded || !hasServer) {
    throw new RedisUnavailable(
      `cannot reach Redis at ${url}. Start one (e.g. \`redis-server\`, \`docker run -p 6379:6379 redis\`), ` +
        `set REDIS_URL, or install redis-server so \`npm start\` can run a private one.`,
    );
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const embeddedUrl = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(embeddedUrl, 500)) {
      logger.warn(`no Redis at ${url}: started a private redis-server on port ${port} (data is not kept)`);
      process.on('exit', () => child.kill('SIGKILL'));
      return { url: embeddedUrl, child };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new RedisUnavailable(`cannot reach Redis at ${url}, and a private redis-server did not start`);
}
