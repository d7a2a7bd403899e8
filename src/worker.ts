// Entry point of the worker role (start/stop/status jobs, render pipelines, FFmpeg).
import 'dotenv/config';
import { config } from './config.js';
import { Shutdown, guardProcess } from './shutdown.js';
import { runWorker } from './roles.js';
import { log, errMessage } from './logger.js';

guardProcess();
const shutdown = new Shutdown();
shutdown.onSignals();
runWorker(config(), shutdown).catch((err) => {
  log('APP').error(`worker failed to start: ${errMessage(err)}`);
  shutdown.run('start-up failure').finally(() => process.exit(1));
});
