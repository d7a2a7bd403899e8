// Entry point of the worker role (start/stop/status jobs, render threads, FFmpeg).
import 'dotenv/config';
import './render/allocator.js'; // before anything loads the canvas library
import { config } from './config.js';
import { Shutdown, guardProcess } from './shutdown.js';
import { connectRedis, openDb, runWorker } from './roles.js';
import { log, errMessage } from './logger.js';
import { startMetricsServer } from './metrics/index.js';

guardProcess();
const shutdown = new Shutdown();
shutdown.onSignals();

async function main() {
  const cfg = config();
  // The embedded database belongs to the process that runs the web role (npm start runs both).
  const db = cfg.DATABASE_URL ? await openDb(cfg) : null;
  const redis = await connectRedis(cfg, 'worker');
  const worker = await runWorker(cfg, db, redis);
  if (cfg.METRICS_PORT !== undefined) shutdown.add('metrics', (await startMetricsServer(cfg.METRICS_PORT, cfg.HOST, cfg.METRICS_TOKEN)).close);
  shutdown.add('worker', () => worker.close());
  shutdown.add('redis', () => redis.close());
  if (db) shutdown.add('database', () => db.close());
}

main().catch((err) => {
  log('APP').error(`worker failed to start: ${errMessage(err)}`);
  shutdown.run('start-up failure').finally(() => process.exit(1));
});
