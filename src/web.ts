// Entry point of the web role (API, SSE, socket.io, pages).
import 'dotenv/config';
import './render/allocator.js'; // before anything loads the canvas library
import { config } from './config.js';
import { Shutdown, guardProcess } from './shutdown.js';
import { connectRedis, openDb, runWeb } from './roles.js';
import { log, errMessage } from './logger.js';

guardProcess();
const shutdown = new Shutdown();
shutdown.onSignals();

async function main() {
  const cfg = config();
  const db = await openDb(cfg);
  const redis = await connectRedis(cfg, 'web');
  const web = await runWeb(cfg, db, redis);
  shutdown.add('web', () => web.close());
  shutdown.add('redis', () => redis.close());
  shutdown.add('database', () => db.close());
}

main().catch((err) => {
  log('APP').error(`web failed to start: ${errMessage(err)}`);
  shutdown.run('start-up failure').finally(() => process.exit(1));
});
