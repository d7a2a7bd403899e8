// Health check of ONE worker replica (`node dist/worker-health.js`, the compose healthcheck):
// healthy while a worker of this host (container) has a fresh heartbeat in Redis. Worker ids
// are `<hostname>-<pid>-<random>` (jobs/runtime.ts), and each container has its own hostname,
// so a dead replica is unhealthy even while other replicas beat.
// Exit 0 healthy, 1 not (with one line saying why).
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { keys } from './keys.js';

export async function workerHealthy(redisUrl: string, host: string, maxAgeMs: number): Promise<{ ok: boolean; why: string }> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000, commandTimeout: 3000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const beats = await redis.zrangebyscore(keys.workers(), Date.now() - maxAgeMs, '+inf');
    const mine = beats.filter((id) => id.startsWith(`${host}-`));
    if (!mine.length) return { ok: false, why: `no heartbeat from a worker on ${host} in the last ${maxAgeMs} ms` };
    // The per-worker key expires with HEARTBEAT_TTL_SECONDS: a worker that stopped beating loses it.
    const alive = (await Promise.all(mine.map((id) => redis.exists(keys.worker(id))))).some((n) => n === 1);
    return alive ? { ok: true, why: `worker ${mine.join(', ')} beating` } : { ok: false, why: `heartbeat key of ${mine.join(', ')} expired` };
  } catch (err) {
    return { ok: false, why: `Redis: ${(err as Error).message}` };
  } finally {
    redis.disconnect();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const ttl = Number(process.env.HEARTBEAT_TTL_SECONDS || 10);
  const r = await workerHealthy(process.env.REDIS_URL || 'redis://127.0.0.1:6379', process.env.WORKER_HOST || os.hostname(), ttl * 1000);
  process.stdout.write(`${r.why}\n`);
  process.exit(r.ok ? 0 : 1);
}
