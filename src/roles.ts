// Wiring of the two roles with everything around them; the entry points call these and
// register the shutdown steps in order (web → worker → database → embedded servers).
import type { Config } from './config.js';
import { setDefaultStreamKey } from './keys.js';
import { createRedis, waitReady } from './redis.js';
import { startWeb, type WebHandle } from './web-server.js';
import { WorkerRuntime } from './jobs/runtime.js';
import type { SessionRecorder } from './jobs/job-context.js';
import { createBroadcastFactory } from './render/broadcast.js';
import { openDatabase, migrate, SessionRepository, redactUrl, type Database } from './db/index.js';
import { PollService } from './polls/service.js';
import { createGenerator } from './polls/generator.js';
import { pollRouter, installPollFastPath } from './routes/poll.js';
import { pollsAdminRouter } from './routes/polls-admin.js';
import { attachRealtime } from './realtime/index.js';
import { log } from './logger.js';

const logger = log('APP');

/** The database of this process: DATABASE_URL, or the embedded one; migrated. */
export async function openDb(config: Config): Promise<Database> {
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  const applied = await migrate(db.pool);
  logger.info(`database ${db.embedded ? `embedded (PGlite, ${config.DATA_DIR})` : redactUrl(db.url)} ready${applied.length ? `, applied migrations ${applied.join(', ')}` : ''}`);
  return db;
}

export interface WebRole {
  web: WebHandle;
  polls: PollService;
  close(): Promise<void>;
}

export async function runWeb(config: Config, db: Database): Promise<WebRole> {
  setDefaultStreamKey(config.DEFAULT_STREAM_KEY);
  const redis = createRedis(config.REDIS_URL, 'polls');
  const subscriber = createRedis(config.REDIS_URL, 'polls-sub', { subscriber: true });
  await waitReady(redis, 5000);
  const polls = new PollService({
    pool: db.pool,
    redis,
    subscriber,
    generator: createGenerator(config),
    // The show loop runs on every web node; a Redis lease lets one of them drive it at a time.
    show: { durationSeconds: config.POLL_DURATION_SECONDS, revealSeconds: config.REVEAL_SECONDS, run: true },
  });
  await polls.start();
  await polls.ensurePoll();
  const realtime = attachRealtime(config, { polls });

  const web = await startWeb(config, {
    routers: ({ requireToken }) => [pollsAdminRouter({ polls, requireToken }), pollRouter({ polls, requireToken })],
    checks: { database: () => db.pool.query('select 1') },
    attach: async (server, deps) => {
      // GET /api/poll answered before Express: it is the hottest read (every viewer polls it).
      const offFastPath = installPollFastPath(server, polls);
      const rt = await realtime(server, deps);
      return {
        stats: rt.stats,
        async close() {
          offFastPath();
          await rt.close();
        },
      };
    },
  });
  return {
    web,
    polls,
    async close() {
      await web.close();
      await polls.close();
      subscriber.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export async function runWorker(config: Config, db: Database | null): Promise<WorkerRuntime> {
  setDefaultStreamKey(config.DEFAULT_STREAM_KEY);
  let sessions: SessionRecorder | undefined;
  if (db) {
    const repo = new SessionRepository(db.pool);
    sessions = {
      start: (s) => repo.recordSessionStart(s),
      end: async (id, s) => {
        await repo.recordSessionEnd(id, s);
      },
    };
  } else {
    logger.warn('DATABASE_URL is unset: this worker does not record stream sessions (the embedded database belongs to one process)');
  }
  const worker = new WorkerRuntime(config, { broadcast: await createBroadcastFactory(config), sessions });
  await worker.start();
  return worker;
}
