// GET /api/stats: the numbers the dashboard graphs, per active stream: the worker's counters from
// the state hash (frames, drops, encoded fps, bitrate, written every second by its heartbeat)
// and this web process's viewers (SSE clients, socket.io viewers). Keys are answered redacted.
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router } from 'express';
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { redactKey } from '../logger.js';
import { sources } from '../metrics/sources.js';

const num = (v: string | undefined) => (v === undefined || v === '' || !Number.isFinite(Number(v)) ? null : Number(v));

/** Viewers of this process by redacted stream key. */
function localViewers(): { sse: Map<string, number>; socket: Map<string, number> } {
  const sse = new Map<string, number>();
  const socket = new Map<string, number>();
  for (const f of sources.feeds) for (const c of f.metrics().clients) sse.set(redactKey(c.streamKey), (sse.get(redactKey(c.streamKey)) ?? 0) + c.clients);
  for (const v of sources.viewers) for (const d of v().streamDetails) socket.set(d.streamKey, (socket.get(d.streamKey) ?? 0) + d.viewers);
  return { sse, socket };
}

// uPlot for the dashboard's graphs, from node_modules (no CDN).
const UPLOT_DIST = path.join(path.dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

export function statsRouter(d: { redis: Redis }): Router {
  const r = Router();
  r.use('/vendor/uplot', express.static(UPLOT_DIST, { maxAge: '1d', index: false }));
  r.get('/api/stats', async (_req, res) => {
    const members = (await d.redis.smembers(keys.active())).sort();
    const pipe = d.redis.pipeline();
    for (const k of members) pipe.hgetall(keys.state(k));
    const hashes = ((await pipe.exec()) ?? []).map((x) => (x?.[1] ?? {}) as Record<string, string>);
    const { sse, socket } = localViewers();
    const streams = members
      .map((k, i) => ({ k, h: hashes[i] }))
      .filter(({ h }) => h.active === 'true')
      .map(({ k, h }) => {
        const stream = redactKey(k);
        return {
          stream,
          health: h.health || null,
          fps: num(h.output_fps),
          bitrateKbps: num(h.bitrate_kbps),
          frames: num(h.frames) ?? 0,
          dropped: num(h.dropped) ?? 0,
          restarts: num(h.restarts) ?? 0,
          sseClients: sse.get(stream) ?? 0,
          socketViewers: socket.get(stream) ?? 0,
        };
      });
    res.setHeader('Cache-Control', 'no-store');
    res.json({ at: Date.now(), streams });
  });
  return r;
}
