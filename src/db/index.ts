// The database: PostgreSQL at DATABASE_URL, or embedded Postgres (PGlite) when it is unset.
// Either way callers get a `pg.Pool` and write ordinary SQL.
import pg from 'pg';
import { log, errMessage } from '../logger.js';
import { startEmbedded } from './embedded.js';

export { migrate } from './migrate.js';
export { SessionRepository } from './sessions.js';
export { PgRequestedStreams } from './requested.js';
export type { SessionStart, SessionEnd, SessionRow } from './sessions.js';

const logger = log('DB');

export interface Database {
  pool: pg.Pool;
  /** Connection string (for the embedded server: where other processes can reach it). */
  url: string;
  embedded: boolean;
  /** Ends the pool, then stops the embedded server; safe to call twice. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  /** Pool size (default 10; 4 for the embedded server, which runs one request at a time anyway). */
  poolMax?: number;
}

/** Hides the password in a URL we log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}

function makePool(url: string, max: number, embedded: boolean): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    idleTimeoutMillis: embedded ? 0 : 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: 'stream-fighter',
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (err) => logger.warn(`idle database connection failed: ${errMessage(err)}`));
  return pool;
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const pool = makePool(opts.databaseUrl, opts.poolMax ?? 10, false);
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot reach the database at ${redactUrl(opts.databaseUrl)}: ${errMessage(err)}`);
    }
    logger.info(`connected to ${redactUrl(opts.databaseUrl)}`);
    let closed = false;
    return {
      pool,
      url: opts.databaseUrl,
      embedded: false,
      async close() {
        if (closed) return;
        closed = true;
        await pool.end();
      },
    };
  }

  const server = await startEmbedded(opts.dataDir);
  const pool = makePool(server.url, opts.poolMax ?? 4, true);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    await server.stop();
    throw err;
  }
  let closed = false;
  return {
    pool,
    url: server.url,
    embedded: true,
    async close() {
      if (closed) return;
      closed = true;
      await pool.end().catch((err) => logger.warn(`closing the pool: ${errMessage(err)}`));
      await server.stop();
    },
  };
}
