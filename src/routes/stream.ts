// The Python version's control plane (seed 003): /stream/start, /stream/stop, /stream/status,
// and the SSE preview /stream/feed.
import { Router, type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { getDefaultStreamKey } from '../keys.js';
import { log, redactKey } from '../logger.js';
import { checkScreen, screenIdSchema, startParams, streamKeySchema } from '../streams/schema.js';
import { startStream, stopStream, streamStatus } from '../streams/control.js';
import { isActive, readState } from '../streams/state.js';
import { endResponse, type FeedHub } from '../streams/feed.js';
import { jobSender, type Queues } from '../jobs/producer.js';
import type { RequestedStreams } from '../streams/requested.js';
import { parse } from './parse.js';

const logger = log('STREAM-API');
const feedLog = log('STREAM-FEED');

export const startBody = z.strictObject({
  fps: startParams.fps,
  quality: startParams.quality,
  streamKey: streamKeySchema.optional(),
  screenId: screenIdSchema.optional(),
  broadcastFps: startParams.broadcastFps,
});

export const stopBody = z.strictObject({ streamKey: streamKeySchema.optional() });
export const keyQuery = z.strictObject({ streamKey: streamKeySchema.optional() });

export interface StreamRouteDeps {
  redis: Redis;
  queues: Queues;
  feed: FeedHub;
  requireToken: RequestHandler;
  defaultScreen: string;
  /** The requested streams (PostgreSQL): a start is recorded there, a stop forgets it. */
  requested?: RequestedStreams;
}

export function streamRouter(d: StreamRouteDeps): Router {
  const r = Router();
  const jobs = jobSender(d.queues);

  r.post('/stream/start', d.requireToken, async (req, res) => {
    logger.info('POST /stream/start received');
    const body = parse(startBody, req.body);
    const streamKey = body.streamKey ?? getDefaultStreamKey();
    const screenId = checkScreen(body.screenId ?? d.defaultScreen);
    logger.info(`current state in Redis: ${JSON.stringify((await readState(d.redis, streamKey)) ?? {})}`);
    logger.info('starting streaming task...');
    const { taskId } = await startStream(d.redis, jobs, {
      streamKey,
      screenId,
      fps: body.fps,
      quality: body.quality,
      broadcastFps: body.broadcastFps,
    }, d.requested);
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
    const { taskId, streamTaskId } = await stopStream(d.redis, jobs, streamKey, 'requested', d.requested);
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
    if (!(await isActive(d.redis, streamKey))) {
      feedLog.info(`stream ${redactKey(streamKey)} inactive, closing SSE connection`);
      endResponse(res);
      return;
    }
    await d.feed.add(streamKey, res);
  });

  return r;
}
