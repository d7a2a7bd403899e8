// ioredis clients with the shared settings: fail a command fast when Redis is gone
// (callers answer 503) and reconnect quietly in the background.
import { Redis } from 'ioredis';
import { log, errMessage } from '../logger.js';
import { logOnce } from './log-once.js';

const logger = log('APP');

export function createRedis(
  url: string,
  name: string,
  opts: { subscriber?: boolean; /** no offline queue: answer 503 at once while Redis is away */ failFast?: boolean } = {},
): Redis {
  const client = new Redis(url, {
    connectionName: `stream-fighter:${name}`,
    maxRetriesPerRequest: opts.subscriber ? null : 2,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    enableReadyCheck: true,
    enableOfflineQueue: !opts.failFast,
    lazyConnect: false,
  });
  // One line per distinct error, not one per reconnect attempt.
  const outage = logOnce({
    warn: (msg) => logger.warn(`redis (${name}): ${msg}`),
    recovered: () => logger.info(`redis (${name}) reconnected`),
    distinct: true,
  });
  client.on('error', (err) => outage.fail(errMessage(err)));
  client.on('ready', () => outage.ok());
  return client;
}

/** Close politely (QUIT waits for pending replies); drop the socket when that fails. Safe twice. */
export async function quit(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/** Resolves when the client is ready, rejects after `ms`. */
export async function waitReady(client: Redis, ms = 3000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup();
      reject(new Error(`cannot reach Redis within ${ms} ms`));
    }, ms);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(t);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}

/** Hash fields come back as strings; turn a HGETALL result into null when empty. */
export function nonEmpty(hash: Record<string, string>): Record<string, string> | null {
  return Object.keys(hash).length ? hash : null;
}
