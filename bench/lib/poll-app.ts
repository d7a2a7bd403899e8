// The poll part of the web app, in process, on a real port, against a fresh database
// (PostgreSQL in a schema of its own, or embedded PGlite in a temp dir) and its own Redis
// key namespace; everything it made is removed by close().
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import { createApp } from '../../src/app.js';
import { migrate } from '../../src/db/index.js';
import { PollService } from '../../src/polls/service.js';
import { pollRouter } from '../../src/routes/poll.js';
import { DATABASE_KINDS, type DatabaseKind, type TestDatabase } from '../../test/helpers/databases.js';
import { closeTestVoteGate, deleteKeys, requireToken, testVoteGate, uniquePrefix, REDIS_URL } from '../../test/helpers/polls.js';
import { pollKeys } from '../../src/polls/store.js';
import { Subscriber } from '../../src/redis/index.js';

export function benchKinds(): DatabaseKind[] {
  const want = (process.env.BENCH_DB ?? 'both').toLowerCase();
  return DATABASE_KINDS.filter((k) => want === 'both' || (want === 'pglite') === k.embedded);
}

export async function startPollApp(kind: DatabaseKind) {
  const t: TestDatabase = await kind.open();
  await migrate(t.db.pool);
  const prefix = uniquePrefix('bench');
  const redis = new Redis(REDIS_URL);
  const subscriber = new Redis(REDIS_URL);
  const polls = new PollService({ pool: t.db.pool, redis, subscriber: new Subscriber(subscriber), keys: pollKeys(prefix), reconcileMs: 0 });
  await polls.start();
  const app = createApp([pollRouter({ polls, requireToken, votes: testVoteGate(polls) })]);
  const server: Server = app.listen(0, '127.0.0.1');
  server.keepAliveTimeout = 30_000;
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    t,
    polls,
    redis,
    prefix,
    server,
    base,
    async close() {
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
      closeTestVoteGate();
      await polls.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
      subscriber.disconnect();
      await t.cleanup();
    },
  };
}
