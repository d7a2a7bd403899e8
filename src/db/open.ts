// The process's database from its config: DATABASE_URL, or the embedded one; migrated. Its own
// module (not roles.ts) so `npm start` can start the private PostgreSQL before it loads the app.
import type { Config } from '../config.js';
import { log } from '../logger.js';
import { openDatabase, migrate, type Database } from './index.js';

const logger = log('DB');

export async function openDb(config: Config): Promise<Database> {
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, embedded: config.EMBEDDED_DB, pgBin: config.PG_BIN });
  const applied = await migrate(db.pool);
  logger.info(`database ${db.description} ready${applied.length ? `, applied migrations ${applied.join(', ')}` : ''}`);
  return db;
}
