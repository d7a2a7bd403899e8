// Entry point of the web role (API, SSE, socket.io, pages).
import 'dotenv/config';
import { config } from './config.js';
import { Shutdown, guardProcess } from './shutdown.js';
import { runWeb } from './roles.js';
import { log, errMessage } from './logger.js';

guardProcess();
const shutdown = new Shutdown();
shutdown.onSignals();
runWeb(config(), shutdown).catch((err) => {
  log('APP').error(`web failed to start: ${errMessage(err)}`);
  shutdown.run('start-up failure').finally(() => process.exit(1));
});
