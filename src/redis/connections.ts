// The two Redis connections of a process, opened once by the composition root (src/roles.ts)
// and handed down: one command client and one subscriber (behind the channel router). With
// `npm start` the web and worker roles run in one process and share the same two.
import type { Redis } from 'ioredis';
import { createRedis, quit, waitReady } from './client.js';
import { Subscriber } from './subscriber.js';

export interface RedisConnections {
  /** Commands, scripts, publishes (fail-fast: see src/redis/index.ts). */
  redis: Redis;
  /** Every subscription of the process goes through this router. */
  sub: Subscriber;
  /** The opener's: quit both. Safe twice. */
  close(): Promise<void>;
}

/** Opens both and waits for the command client (connection names `stream-fighter:<name>` and `…:<name>-sub`). */
export async function openRedis(url: string, name: string, readyMs = 5000): Promise<RedisConnections> {
  const redis = createRedis(url, name, { failFast: true });
  const connection = createRedis(url, `${name}-sub`, { subscriber: true });
  const sub = new Subscriber(connection);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    sub.close();
    connection.disconnect();
    await quit(redis);
  };
  try {
    await Promise.all([waitReady(redis, readyMs), waitReady(connection, readyMs)]);
  } catch (err) {
    await close();
    throw err;
  }
  return { redis, sub, close };
}
