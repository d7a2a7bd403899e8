// `npm start`: web + worker in one process with embedded defaults for a laptop (a private Redis
// when none answers, a private PostgreSQL, an RTMP server). Production runs src/web.ts and
// src/worker.ts apart. `npm start` is `node --import tsx src/main.ts`: signals reach this process
// directly; the private servers run in their own process groups and are stopped last.
import 'dotenv/config';
import { config } from './config.js';
import { Shutdown, guardProcess } from './shutdown.js';
import { connectRedis, openDb, runWeb, runWorker } from './roles.js';
import { ensureRedis, RedisUnavailable } from './embedded/redis.js';
import { startRtmpServer } from './render/rtmp-server.js';
import { resolveFfmpeg } from './render/ffmpeg/binary.js';
import { log, errMessage } from './logger.js';
import { banner } from './embedded/banner.js';

const logger = log('APP');

/** A start-up problem the user can fix, said in one line. */
class StartupError extends Error {}

async function main(shutdown: Shutdown) {
  const base = config();
  const redis = await ensureRedis(base.REDIS_URL, base.EMBEDDED_REDIS ?? base.NODE_ENV !== 'production', base.EMBEDDED_REDIS_FALLBACK_PORT);
  // Registered first, run last: everything else still needs Redis while it stops.
  const last: Array<[string, () => Promise<unknown>]> = [];
  if (redis.server) last.push(['embedded redis', () => redis.server!.stop()]);
  const cfg = { ...base, REDIS_URL: redis.url };
  const embedded: Array<[string, () => Promise<unknown>]> = [];
  const ffmpeg = base.RTMP_URL ? null : await resolveFfmpeg(base.FFMPEG_PATH).catch((err: Error) => err);
  if (ffmpeg instanceof Error) {
    // Laptop defaults only: without FFmpeg the dashboard, previews, polls and socket.io still work.
    logger.warn(`no FFmpeg, so streams render previews only (set RTMP_URL to make this an error): ${ffmpeg.message}`);
    cfg.RTMP_URL = 'off';
  } else if (!base.RTMP_URL) {
    // A laptop has no RTMP server: run one in-process so `ffplay rtmp://localhost:1935/live/<key>` plays.
    const rtmp = await startRtmpServer({ port: base.RTMP_PORT }).catch((err) => {
      throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? new StartupError(`port ${base.RTMP_PORT} is taken, so the embedded RTMP server cannot start: set RTMP_PORT to a free port, or RTMP_URL to your RTMP server`)
        : err;
    });
    cfg.RTMP_URL = `rtmp://127.0.0.1:${rtmp.port}/live`;
    // Said without a placeholder key: the log redaction treats the last segment of an RTMP URL as a key.
    logger.info(`no RTMP_URL: embedded RTMP server on port ${rtmp.port} (play a stream with: ffplay rtmp://localhost:${rtmp.port}/live/ followed by its stream key)`);
    embedded.push(['embedded rtmp', () => rtmp.close()]);
  }
  // A failure from here on exits the process; the private servers' watchdogs then stop them.
  const db = await openDb(cfg);
  embedded.unshift(['database', () => db.close()]);
  // One command client and one subscriber for both roles of this process.
  const conns = await connectRedis(cfg, 'main');
  embedded.unshift(['redis', () => conns.close()]);
  // Shutdown runs steps in the order added: web, worker, then what they used.
  const web = await runWeb(cfg, db, conns).catch((err) => {
    throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? new StartupError(`port ${cfg.PORT} is taken: stop what runs there or set PORT to a free port`)
      : err;
  });
  shutdown.add('web', () => web.close());
  const worker = await runWorker(cfg, db, conns);
  shutdown.add('worker', () => worker.close());
  for (const [name, step] of embedded) shutdown.add(name, step);
  for (const [name, step] of last) shutdown.add(name, step);
  process.stdout.write(
    banner({
      port: web.web.port,
      streamKey: cfg.DEFAULT_STREAM_KEY,
      rtmp: ffmpeg instanceof Error ? null : cfg.RTMP_URL!,
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
