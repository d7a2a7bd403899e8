// Wiring of the two roles with everything around them; the entry points call these and
// register the shutdown steps in order (web → worker → Redis → database → embedded servers).
// The composition root of Redis too: openRedis() opens the process's one command client and one
// subscriber, and each role gets them handed in (src/redis/index.ts says why just these two).
import type { Config } from './config.js';
import { setDefaultStreamKey } from './keys.js';
import { openRedis, type RedisConnections } from './redis/index.js';
import { startWeb, type WebHandle } from './web-server.js';
import { WorkerRuntime } from './jobs/runtime.js';
import type { SessionRecorder } from './jobs/job-context.js';
import { createBroadcastFactory } from './render/broadcast.js';
import { warmRenderThreads } from './render/thread-pool.js';
import { SessionRepository, type Database } from './db/index.js';
import { PgRequestedStreams } from './streams/requested-pg.js';
import { PollService } from './polls/service.js';
import { createGenerator } from './polls/generator.js';
import { pollRouter, installPollFastPath } from './routes/poll.js';
import { pollsAdminRouter } from './routes/polls-admin.js';
import { attachRealtime } from './realtime/index.js';
import { startChat, chatRouter, type ChatHandle } from './chat/index.js';
import { trackChat } from './chat/metrics.js';
import { log } from './logger.js';
import { trackViewers } from './metrics/index.js';
import { sessionsRouter } from './routes/sessions.js';

const logger = log('APP');

export { openDb } from './db/open.js';

export interface WebRole {
  web: WebHandle;
  polls: PollService;
  /** Issue 12: the chat bridge (null without TWITCH_CHANNEL); `chat.stats()` is the metrics hook. */
  chat: ChatHandle | null;
  close(): Promise<void>;
}

/** The process's Redis connections, named after its roles (`stream-fighter:<name>`, `…:<name>-sub`). */
export function connectRedis(config: Config, name: string): Promise<RedisConnections> {
  return openRedis(config.REDIS_URL, name);
}

export async function runWeb(config: Config, db: Database, conns: RedisConnections): Promise<WebRole> {
  setDefaultStreamKey(config.DEFAULT_STREAM_KEY);
  const polls = new PollService({
    pool: db.pool,
    redis: conns.redis,
    subscriber: conns.sub,
    generator: createGenerator(config),
    // The show loop runs on every web node; a Redis lease lets one of them drive it at a time.
    show: { durationSeconds: config.POLL_DURATION_SECONDS, revealSeconds: config.REVEAL_SECONDS, run: true },
  });
  await polls.start();
  await polls.ensurePoll();
  const realtime = attachRealtime(config, { polls });
  const chat = startChat(config, { redis: conns.redis, polls }); // null without TWITCH_CHANNEL
  const offChatMetrics = chat ? trackChat(chat) : undefined;

  const web = await startWeb(config, conns, {
    requested: new PgRequestedStreams(db.pool, config.QUEUE_PREFIX),
    // The admin router first: /api/polls/queue is not a poll id.
    routers: ({ requireToken, votes }) => [
      pollsAdminRouter({ polls, requireToken }),
      pollRouter({ polls, requireToken, votes }),
      sessionsRouter({ pool: db.pool }),
      chatRouter(chat),
    ],
    chat: chat ? () => chat.status() : undefined,
    currentPollId: async () => (await polls.current())?.id ?? null,
    checks: { database: () => db.pool.query('select 1') },
    attach: async (server, deps) => {
      // GET /api/poll answered before Express: it is the hottest read (every viewer polls it).
      const offFastPath = installPollFastPath(server, polls);
      const rt = await realtime(server, deps);
      const offViewers = trackViewers(() => rt.realtime.distributor.getStats());
      return {
        stats: rt.stats,
        async close() {
          offFastPath();
          offViewers();
          await rt.close();
        },
      };
    },
  });
  return {
    web,
    polls,
    chat,
    async close() {
      offChatMetrics?.();
      await chat?.close();
      await web.close();
      await polls.close();
    },
  };
}

export async function runWorker(config: Config, db: Database | null, conns: RedisConnections): Promise<WorkerRuntime> {
  setDefaultStreamKey(config.DEFAULT_STREAM_KEY);
  let sessions: SessionRecorder | undefined;
  // Without a database the worker still runs streams; a stopped stream leaves a note in Redis
  // that the reconciler of a process with the database reads.
  const requested = db ? new PgRequestedStreams(db.pool, config.QUEUE_PREFIX) : undefined;
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
  // One render thread booted ahead of need: a start skips the thread's 300-500 ms boot; streams
  // have a thread each, or share at most RENDER_THREADS of them (issue 14).
  warmRenderThreads(1, [[config.WIDTH, config.HEIGHT], [config.PREVIEW_WIDTH, config.PREVIEW_HEIGHT]], config.RENDER_THREADS);
  const worker = new WorkerRuntime(config, conns, { broadcast: await createBroadcastFactory(config), sessions, requested });
  await worker.start();
  return worker;
}
