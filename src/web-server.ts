// The web role: HTTP server with the API, SSE feed and static pages, sharing Redis with every
// other replica. Returns a handle whose close() runs the web part of the shutdown order.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Router } from 'express';
import type { Config } from './config.js';
import { createApp } from './app.js';
import { createRedis, waitReady, quit } from './redis/index.js';
import { closeQueues, createQueues } from './jobs/producer.js';
import { startReaper } from './streams/reaper.js';
import { FeedHub } from './streams/feed.js';
import { requireToken } from './routes/auth.js';
import { streamRouter } from './routes/stream.js';
import { streamsApiRouter } from './routes/streams-api.js';
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
  attach?: (server: http.Server, deps: { feed: FeedHub; guard: SocketGuard }) => Promise<{ close(): Promise<void>; stats?: HealthDeps['realtime'] }>;
}

export async function startWeb(config: Config, extras: WebExtras = {}) {
  const redis = createRedis(config.REDIS_URL, 'web', { failFast: true });
  const sub = createRedis(config.REDIS_URL, 'web-sub', { subscriber: true });
  await waitReady(redis, 5000);
  const queues = createQueues(config.REDIS_URL, { prefix: config.QUEUE_PREFIX, isWorker: false });
  const feed = new FeedHub(sub, redis);
  const guard = requireToken(config.API_TOKEN);
  let realtime: HealthDeps['realtime'];
  const security = await createSecurity(config, redis, { currentPollId: extras.currentPollId });

  const app = createApp([
    streamRouter({ redis, queues, feed, requireToken: guard, defaultScreen: config.DEFAULT_SCREEN }),
    streamsApiRouter({ redis, queues, requireToken: guard }),
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
  const attached = extras.attach ? await extras.attach(server, { feed, guard: security.socket }) : null;
  realtime = attached?.stats;
  const stopReaper = startReaper(redis, config.HEARTBEAT_TTL_SECONDS * 1000 + 5000);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info(`web listening on http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${port}`);
  const exposure = exposureLine(config);
  logger[exposure.level](exposure.text);

  let closed = false;
  return {
    port,
    server,
    app,
    redis,
    queues,
    feed,
    /** Stop accepting HTTP, end SSE feeds, close producers, socket.io, Redis. Safe twice. */
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      stopReaper();
      untrack.forEach((u) => u());
      const serverClosed = new Promise((r) => server.close(r));
      feed.close();
      server.closeIdleConnections();
      await closeQueues(queues);
      await attached?.close();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
      await serverClosed;
      sub.disconnect();
      await quit(redis);
    },
  };
}

export type WebHandle = Awaited<ReturnType<typeof startWeb>>;
