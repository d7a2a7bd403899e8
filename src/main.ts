// `npm start`: web + worker in one process with embedded defaults for a laptop (a private Redis
// when none answers, a private PostgreSQL, an RTMP server). Production runs src/web.ts and
// src/worker.ts apart. `npm start` runs this file in its own node process (scripts/start.mjs:
// the build in dist/, or the source through tsx when src/ changed since): signals reach it
// directly; the private servers run in their own process groups and are stopped last.
import 'dotenv/config';
import './render/allocator.js'; // before anything loads the canvas library
import { config, type Config } from './config.js';
import { Shutdown, guardProcess } from './shutdown.js';
import { canRunPrivateRedis, ensureRedis, RedisUnavailable } from './embedded/redis.js';
import { openDb } from './db/open.js';
import { log, errMessage } from './logger.js';
import { banner } from './embedded/banner.js';
import type { ResolvedFfmpeg } from './render/ffmpeg/binary.js';

const logger = log('APP');

/** A start-up problem the user can fix, said in one line. */
class StartupError extends Error {}

type Step = [string, () => Promise<unknown>];

/**
 * FFmpeg and, without RTMP_URL, the embedded RTMP server (`ffplay rtmp://localhost:1935/live/<key>`
 * plays any stream). Without FFmpeg a laptop still gets the dashboard, previews, polls and
 * socket.io: RTMP_URL becomes 'off'.
 */
async function rtmpOutput(base: Config): Promise<{ ffmpeg: ResolvedFfmpeg | Error | null; rtmpUrl?: string; close?: () => Promise<unknown> }> {
  if (base.RTMP_URL) return { ffmpeg: null };
  const { resolveFfmpeg } = await import('./render/ffmpeg/binary.js');
  const ffmpeg = await resolveFfmpeg(base.FFMPEG_PATH).catch((err: Error) => err);
  if (ffmpeg instanceof Error) {
    logger.warn(`no FFmpeg, so streams render previews only (set RTMP_URL to make this an error): ${ffmpeg.message}`);
    return { ffmpeg, rtmpUrl: 'off' };
  }
  const { startRtmpServer } = await import('./render/rtmp-server.js');
  const rtmp = await startRtmpServer({ port: base.RTMP_PORT }).catch((err) => {
    throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? new StartupError(`port ${base.RTMP_PORT} is taken, so the embedded RTMP server cannot start: set RTMP_PORT to a free port, or RTMP_URL to your RTMP server`)
      : err;
  });
  // Said without a placeholder key: the log redaction treats the last segment of an RTMP URL as a key.
  logger.info(`no RTMP_URL: embedded RTMP server on port ${rtmp.port} (play a stream with: ffplay rtmp://localhost:${rtmp.port}/live/ followed by its stream key)`);
  return { ffmpeg, rtmpUrl: `rtmp://127.0.0.1:${rtmp.port}/live`, close: () => rtmp.close() };
}

async function main(shutdown: Shutdown) {
  const base = config();
  // Start-up is mostly waiting on child processes (initdb and postgres, redis-server, ffmpeg
  // -version) and loading the app's modules (~0.6 s of CPU): all at once, not one after another.
  const roles = import('./roles.js');
  roles.catch(() => undefined); // awaited below; not an unhandled rejection if something else fails first
  const allowRedis = base.EMBEDDED_REDIS ?? base.NODE_ENV !== 'production';
  const redisP = ensureRedis(base.REDIS_URL, allowRedis, base.EMBEDDED_REDIS_FALLBACK_PORT);
  // When no private Redis can stand in, a missing Redis ends start-up: then the database (maybe
  // created on this first start) waits for Redis to answer.
  const dbGate = canRunPrivateRedis(allowRedis) ? Promise.resolve() : redisP.then(() => undefined);
  const [redisR, rtmpR, dbR] = await Promise.allSettled([redisP, rtmpOutput(base), dbGate.then(() => openDb(base))]);
  // Shutdown runs steps in the order added: web, worker, then what they used, the private Redis
  // last (everything else still needs it while it stops).
  const embedded: Step[] = [];
  const last: Step[] = [];
  if (dbR.status === 'fulfilled') embedded.push(['database', () => dbR.value.close()]);
  if (rtmpR.status === 'fulfilled' && rtmpR.value.close) embedded.push(['embedded rtmp', rtmpR.value.close]);
  if (redisR.status === 'fulfilled' && redisR.value.server) last.push(['embedded redis', () => redisR.value.server!.stop()]);
  const failed = [redisR, rtmpR, dbR].find((r) => r.status === 'rejected');
  if (failed) {
    for (const [name, step] of [...embedded, ...last]) shutdown.add(name, step);
    throw failed.reason;
  }
  const redis = (redisR as PromiseFulfilledResult<Awaited<ReturnType<typeof ensureRedis>>>).value;
  const out = (rtmpR as PromiseFulfilledResult<Awaited<ReturnType<typeof rtmpOutput>>>).value;
  const db = (dbR as PromiseFulfilledResult<Awaited<ReturnType<typeof openDb>>>).value;
  const cfg = { ...base, REDIS_URL: redis.url, RTMP_URL: out.rtmpUrl ?? base.RTMP_URL };
  const { connectRedis, runWeb, runWorker } = await roles;
  // One command client and one subscriber for both roles of this process.
  const conns = await connectRedis(cfg, 'main');
  embedded.unshift(['redis', () => conns.close()]);
  // A failure from here on exits the process; the private servers' watchdogs then stop them.
  const web = await runWeb(cfg, db, conns).catch((err) => {
    throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? new StartupError(`port ${cfg.PORT} is taken: stop what runs there or set PORT to a free port`)
      : err;
  });
  shutdown.add('web', () => web.close());
  const worker = await runWorker(cfg, db, conns);
  shutdown.add('worker', () => worker.close());
  for (const [name, step] of [...embedded, ...last]) shutdown.add(name, step);
  process.stdout.write(
    banner({
      port: web.web.port,
      streamKey: cfg.DEFAULT_STREAM_KEY,
      rtmp: out.ffmpeg instanceof Error ? null : cfg.RTMP_URL!,
      redisUrl: redis.url,
      privateRedis: Boolean(redis.server),
      database: db.description,
    }),
  );
}

guardProcess();
const shutdown = new Shutdown();
shutdown.onSignals();
main(shutdown).catch((err) => {
  if (err instanceof RedisUnavailable || err instanceof StartupError) process.stderr.write(`Stream Fighter: ${err.message}\n`);
  else logger.error(`start-up failed: ${errMessage(err)}`);
  shutdown.run('start-up failure').finally(() => process.exit(1));
});
