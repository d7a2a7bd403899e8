// The web role as production wires it (runWeb: polls, socket.io, the security layer) against
// the real Redis and a PostgreSQL database of its own; a snapshot of what a request could
// change; and a capture of the log lines.
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { Redis as IORedis } from 'ioredis';
import { connectRedis, runWeb, type WebRole } from '../../src/roles.js';
import type { RedisConnections } from '../../src/redis/index.js';
import { migrate } from '../../src/db/index.js';
import { DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { testConfig } from '../helpers/env.js';
import { deleteKeys } from '../helpers/stack.js';
import type { Config } from '../../src/config.js';

export interface SecStack {
  config: Config;
  role: WebRole;
  /** The web role's Redis connections (a worker in the same test shares them, as under npm start). */
  conns: RedisConnections;
  url: string;
  port: number;
  redis: Redis;
  t: TestDatabase;
  /** What a bad request must not change: stream state, polls, tallies, voters, queued jobs, Postgres rows. */
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

const WATCHED = ['streaming:*', 'sf:poll*', 'sf:tally:*', 'sf:voters:*', 'sf:lease:*', 'sf:rt:streams'];

export async function startSecStack(env: Record<string, string> = {}): Promise<SecStack> {
  const t = await DATABASE_KINDS.find((k) => !k.embedded)!.open();
  await migrate(t.db.pool);
  const config = testConfig({ QUEUE_PREFIX: `bqs${crypto.randomBytes(3).toString('hex')}`, ...env });
  const redis = new IORedis(config.REDIS_URL);
  // A fresh poll namespace: the service's keys are the real ones, so start from none.
  for (const p of ['sf:poll*', 'sf:tally:*', 'sf:voters:*', 'sf:budget:*', 'streaming:*']) await deleteKeys(redis, p);
  const conns = await connectRedis(config, 'sec-test');
  const role = await runWeb(config, t.db, conns);
  const url = `http://127.0.0.1:${role.web.port}`;
  return {
    config,
    role,
    conns,
    url,
    port: role.web.port,
    redis,
    t,
    async snapshot() {
      const parts: string[] = [];
      for (const pattern of WATCHED) {
        const found: string[] = [];
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
          cursor = next;
          found.push(...keys);
        } while (cursor !== '0');
        for (const k of found.sort()) {
          const type = await redis.type(k);
          const value =
            type === 'hash' ? await redis.hgetall(k) : type === 'set' ? (await redis.smembers(k)).sort() : type === 'string' ? await redis.get(k) : type;
          parts.push(`${k}=${JSON.stringify(value)}`);
        }
      }
      parts.push(`jobs=${(await redis.keys(`${config.QUEUE_PREFIX}:*:jobs`)).length}:${await redis.get(`${config.QUEUE_PREFIX}:stream-start:id`)}`);
      const rows = await t.db.pool.query(
        `select (select count(*) from polls)::int as polls, (select count(*) from votes)::int as votes, (select coalesce(string_agg(id::text || ':' || question, '|' order by id), '') from polls) as q`,
      );
      parts.push(`pg=${JSON.stringify(rows.rows[0])}`);
      return parts.join('\n');
    },
    async close() {
      await role.close();
      await conns.close();
      for (const p of ['sf:poll*', 'sf:tally:*', 'sf:voters:*', 'sf:budget:*', `${config.QUEUE_PREFIX}:*`]) await deleteKeys(redis, p).catch(() => {});
      redis.disconnect();
      await t.cleanup();
    },
  };
}

/** Lines the logger writes (warn and error go to stderr, the rest to stdout) while capturing. */
export function captureLog() {
  const lines: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const tap = (orig: typeof out) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof out;
  process.stdout.write = tap(out);
  process.stderr.write = tap(err);
  return {
    lines,
    stop() {
      process.stdout.write = out;
      process.stderr.write = err;
    },
  };
}
