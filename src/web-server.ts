// The web role: HTTP server with the API, SSE feed and static pages, sharing Redis with every
// other replica. Returns a handle whose close() runs the web part of the shutdown order.
import { createRequire } from 'node:module';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Router } from 'express';
import type { Config } from './config.js';
import { createApp } from './app.js';
import type { RedisConnections } from './redis/index.js';
import { closeQueues, createQueues } from './jobs/producer.js';
import { startReaper } from './streams/reaper.js';
import { Reconciler } from './streams/reconciler.js';
import type { RequestedStreams } from './streams/requested.js';
import { jobSender } from './jobs/producer.js';
import { FeedHub } from './streams/feed.js';
import { requireToken } from './routes/auth.js';
import { streamRouter } from './routes/stream.js';
import { streamsApiRouter } from './routes/streams-api.js';
import { hlsRouter } from './routes/hls.js';
import { healthRouter, type HealthDeps } from './routes/health.js';
import { log } from './logger.js';
import { createSecurity, exposureLine, type VoteGate, type SocketGuard } from './security/index.js';
import { metricsRouter, trackFeed, trackQueues } from './metrics/index.js';
import { apiDocsRouter } from './api-docs/router.js';
import { statsRouter } from './routes/stats.js';

const logger = log('APP');

export interface WebExtras {
  /** More routers (polls, ...) mounted before the 404 handler. */
  routers?: (deps: { requireToken: ReturnType<typeof requireToken>; votes: VoteGate }) => Router[];
  /** Id of the open poll: the per-poll vote budget (issue 10). */
  currentPollId?: () => Promise<string | number | null>;
  checks?: HealthDeps['checks'];
  /** Issue 12: the chat bridge's state in /api/health. */
  chat?: HealthDeps['chat'];
  /** Attach socket.io (or anything else) to the HTTP server. */
  attach?: (server: http.Server, deps: { feed: FeedHub; guard: SocketGuard; conns: RedisConnections }) => Promise<{ close(): Promise<void>; stats?: HealthDeps['realtime'] }>;
  /** The requested streams (PostgreSQL): starts are recorded, stops forget them, the reconciler runs here too. */
  requested?: RequestedStreams;
}

/** `conns`: the process's Redis connections (src/roles.ts opens them; their opener closes them). */
export async function startWeb(config: Config, conns: RedisConnections, extras: WebExtras = {}) {
  const { redis, sub } = conns;
  const queues = createQueues(config.REDIS_URL, { prefix: config.QUEUE_PREFIX, isWorker: false, watch: redis });
  const feed = new FeedHub(sub, redis);
  const guard = requireToken(config.API_TOKEN);
  let realtime: HealthDeps['realtime'];
  const security = await createSecurity(config, redis, { currentPollId: extras.currentPollId });

  const app = createApp([
    streamRouter({ redis, queues, feed, requireToken: guard, defaultScreen: config.DEFAULT_SCREEN, requested: extras.requested }),
    streamsApiRouter({
      redis,
      queues,
      requireToken: guard,
      defaultScreen: config.DEFAULT_SCREEN,
      requested: extras.requested,
      // A refused start is worth retrying when the reconciler would have retried it (RECONCILE_SECONDS).
      admission: config.ADMISSION === 'measured' ? { heartbeatTtlSeconds: config.HEARTBEAT_TTL_SECONDS, retryAfterSeconds: config.RECONCILE_SECONDS } : undefined,
    }),
    hlsRouter({ hlsDir: config.HLS_DIR }),
    healthRouter({
      redis,
      queues,
      heartbeatTtlSeconds: config.HEARTBEAT_TTL_SECONDS,
      checks: extras.checks,
      chat: extras.chat,
      realtime: () => (realtime ? realtime() : Promise.resolve(null)),
    }),
    ...(extras.routers?.({ requireToken: guard, votes: security.votes }) ?? []),
    metricsRouter(config.METRICS_TOKEN),
    statsRouter({ redis }),
    apiDocsRouter(),
  ], { trustProxy: security.trust, before: security.middleware });
  const untrack = [trackFeed(feed), trackQueues(queues)];
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  const attached = extras.attach ? await extras.attach(server, { feed, guard: security.socket, conns }) : null;
  realtime = attached?.stats;
  const stopReaper = startReaper(redis, config.HEARTBEAT_TTL_SECONDS * 1000 + 5000);
  const reconciler = extras.requested
    ? new Reconciler({
        redis,
        requested: extras.requested,
        jobs: jobSender(queues),
        graceMs: config.LEASE_TTL_MS,
        everyMs: config.RECONCILE_SECONDS * 1000,
        resumeOnStart: config.RESUME_ON_START,
        scope: config.QUEUE_PREFIX,
      })
    : null;
  reconciler?.start();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info(`web listening on http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${port}`);
  const exposure = exposureLine(config);
  logger[exposure.level](exposure.text);
  warmRequestPaths();

  let closed = false;
  return {
    port,
    server,
    app,
    redis,
    queues,
    feed,
    /** Stop accepting HTTP, end SSE feeds, close producers, socket.io (Redis is the opener's). Safe twice. */
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      stopReaper();
      untrack.forEach((u) => u());
      await reconciler?.stop();
      const serverClosed = new Promise((r) => server.close(r));
      feed.close();
      server.closeIdleConnections();
      await closeQueues(queues);
      await attached?.close();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
      await serverClosed;
    },
  };
}

/**
 * The first JSON body a process parses loads body-parser's text decoders (iconv-lite, ~15 ms of
 * module loading): done at start-up rather than inside the first POST /stream/start (issue 14).
 */
function warmRequestPaths(): void {
  try {
    const fromBodyParser = createRequire(createRequire(import.meta.url).resolve('body-parser'));
    (fromBodyParser('iconv-lite') as { getDecoder(enc: string): unknown }).getDecoder('utf-8');
  } catch {
    /* a layout without it: the first request loads it, as before */
  }
}

export type WebHandle = Awaited<ReturnType<typeof startWeb>>;
