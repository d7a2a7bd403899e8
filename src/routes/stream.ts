// The Python version's control plane (seed 003): /stream/start, /stream/stop, /stream/status,
// and the SSE preview /stream/feed.
import { Router, type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { badRequest } from '../errors.js';
import { getDefaultStreamKey, keys } from '../keys.js';
import { log, redactKey } from '../logger.js';
import { streamKeySchema } from '../jobs/definitions.js';
import { startStream, stopStream, streamStatus } from '../jobs/control.js';
import type { Queues } from '../jobs/producer.js';
import { getScene, sceneIds } from '../render/scenes/index.js';
import { FeedHub, STOPPED_MESSAGE } from '../realtime/feed-hub.js';
import { parse } from './parse.js';

const logger = log('STREAM-API');
const feedLog = log('STREAM-FEED');

export const startBody = z.strictObject({
  fps: z.number().int().min(1).max(60).default(15),
  quality: z.number().int().min(1).max(100).default(75),
  streamKey: streamKeySchema.optional(),
  screenId: z.string().min(1).max(64).optional(),
  broadcastFps: z.number().int().min(1).max(60).optional(),
});

export const stopBody = z.strictObject({ streamKey: streamKeySchema.optional() });
export const keyQuery = z.strictObject({ streamKey: streamKeySchema.optional() });

export interface StreamRouteDeps {
  redis: Redis;
  queues: Queues;
  feed: FeedHub;
  requireToken: RequestHandler;
  defaultScreen: string;
}

export function checkScreen(screenId: string): void {
  if (!getScene(screenId)) throw badRequest(`unknown screenId "${screenId}"`, { field: 'screenId', known: sceneIds() });
}

export function streamRouter(d: StreamRouteDeps): Router {
  const r = Router();

  r.post('/stream/start', d.requireToken, async (req, res) => {
    logger.info('POST /stream/start received');
    const body = parse(startBody, req.body);
    const streamKey = body.streamKey ?? getDefaultStreamKey();
    const screenId = body.screenId ?? d.defaultScreen;
    checkScreen(screenId);
    logger.info(`current state in Redis: ${JSON.stringify(await d.redis.hgetall(keys.state(streamKey)))}`);
    logger.info('starting streaming task...');
    const { taskId } = await startStream(d.redis, d.queues, {
      streamKey,
      screenId,
      fps: body.fps,
      quality: body.quality,
      broadcastFps: body.broadcastFps,
    });
    res.json({
      success: true,
      status: 'starting',
      message: 'streaming started',
      task_id: taskId,
      stream_key: streamKey,
      screen_id: screenId,
      fps: body.fps,
      quality: body.quality,
    });
  });

  r.post('/stream/stop', d.requireToken, async (req, res) => {
    logger.info('POST /stream/stop received');
    const body = parse(stopBody, req.body);
    const streamKey = body.streamKey ?? getDefaultStreamKey();
    const { taskId, streamTaskId } = await stopStream(d.redis, d.queues, streamKey);
    res.json({ success: true, status: 'stopping', message: 'stop signal sent', task_id: taskId, stream_task_id: streamTaskId });
  });

  r.get('/stream/status', async (req, res) => {
    const q = parse(keyQuery, req.query);
    res.json(await streamStatus(d.redis, q.streamKey ?? getDefaultStreamKey()));
  });

  r.get('/stream/feed', async (req, res) => {
    const q = parse(keyQuery, req.query);
    const streamKey = q.streamKey ?? getDefaultStreamKey();
    feedLog.info(`new SSE connection (${redactKey(streamKey)})`);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    const active = (await d.redis.hget(keys.state(streamKey), 'active')) === 'true';
    if (!active) {
      feedLog.info(`stream ${redactKey(streamKey)} inactive, closing SSE connection`);
      res.end(STOPPED_MESSAGE);
      return;
    }
    await d.feed.add(streamKey, res);
    // Proxies close idle connections: a comment line now and then keeps them open.
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    res.on('close', () => clearInterval(ping));
  });

  return r;
}
