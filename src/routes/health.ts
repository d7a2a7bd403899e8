// Health: /api/health (Redis, queues, live workers, database) and StreamHub's /health.
import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Queues } from '../jobs/producer.js';
import { liveWorkers } from '../jobs/runtime.js';
import { errMessage } from '../logger.js';
import { keys } from '../keys.js';
import { readBeats } from '../streams/worker-beats.js';

export interface HealthDeps {
  redis: Redis;
  queues: Queues;
  heartbeatTtlSeconds: number;
  /** Extra checks (database, ...): name → throws when unhealthy. */
  checks?: Record<string, () => Promise<unknown>>;
  /** socket.io distribution statistics, when the realtime layer is attached. */
  realtime?: () => Promise<{ activeStreams: number; connectedUsers: number; distribution: unknown; scope: string } | null>;
  /** Issue 12: the chat bridge's state (informational: a chat problem does not fail the health check). */
  chat?: () => Promise<unknown>;
}

/** Runs a check with a bound: a client queueing commands for a dead server never answers. */
async function timed<T>(fn: () => Promise<T>, limitMs = 1500): Promise<{ ok: boolean; ms: number; value?: T; error?: string }> {
  const t = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${limitMs} ms`)), limitMs);
      }),
    ]);
    clearTimeout(timer);
    return { ok: true, ms: Math.round((performance.now() - t) * 10) / 10, value };
  } catch (err) {
    clearTimeout(timer);
    return { ok: false, ms: Math.round(performance.now() - t), error: errMessage(err) };
  }
}

export function healthRouter(d: HealthDeps): Router {
  const r = Router();

  r.get('/api/health', async (_req, res) => {
    const redis = await timed(() => d.redis.ping());
    const queues = await timed(async () => {
      const [start, stop, status] = await Promise.all([
        d.queues.start.checkHealth(),
        d.queues.stop.checkHealth(),
        d.queues.status.checkHealth(),
      ]);
      return { start, stop, status };
    });
    const workers = await timed(() => liveWorkers(d.redis, d.heartbeatTtlSeconds));
    // Issue 13: each live worker's streams and headroom, from its heartbeat record.
    const beats = await timed(() => readBeats(d.redis, d.heartbeatTtlSeconds));
    const streams = await timed(() => d.redis.scard(keys.active()));
    const extra: Record<string, { ok: boolean; ms: number; error?: string }> = {};
    for (const [name, check] of Object.entries(d.checks ?? {})) {
      const { ok, ms, error } = await timed(check);
      extra[name] = { ok, ms, ...(error ? { error } : {}) };
    }
    const chat = d.chat ? await timed(d.chat) : null;
    const ok = redis.ok && queues.ok && Object.values(extra).every((c) => c.ok);
    const liveCount = workers.value?.length ?? 0;
    res.status(ok ? 200 : 503).json({
      status: !ok ? 'error' : liveCount === 0 ? 'degraded' : 'ok',
      redis: { ok: redis.ok, latencyMs: redis.ms, ...(redis.error ? { error: redis.error } : {}) },
      queues: queues.ok ? { ok: true, ...queues.value } : { ok: false, error: queues.error },
      workers: {
        live: liveCount,
        ids: workers.value ?? [],
        capacity: (beats.value ?? []).map((b) => ({ id: b.id, streams: b.streams, ...(b.capacity ?? { mode: 'unknown' }) })),
      },
      activeStreams: streams.value ?? null,
      ...extra,
      ...(chat ? { chat: chat.ok ? chat.value : { error: chat.error } } : {}),
      uptimeSeconds: Math.round(process.uptime()),
    });
  });

  r.get('/health', async (_req, res) => {
    const streams = (await d.redis.scard(keys.active()).catch(() => null)) ?? 0;
    const rt = d.realtime ? await d.realtime().catch(() => null) : null;
    res.json({
      status: 'ok',
      activeStreams: rt?.activeStreams ?? streams,
      connectedUsers: rt?.connectedUsers ?? 0,
      distribution: rt?.distribution ?? { activeStreams: 0, totalViewers: 0, streamDetails: [] },
      // Without socket.io on this node, only the server-rendered streams are known.
      scope: rt?.scope ?? 'no realtime on this node',
    });
  });

  return r;
}
