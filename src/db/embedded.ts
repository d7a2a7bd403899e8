// Embedded Postgres for a laptop: PGlite (Postgres compiled to WASM) with its files under
// <dataDir>/pglite, served over the wire protocol on 127.0.0.1 so the same `pg` code serves
// both databases. The server is our PgliteWireServer (see wire.ts for why not pglite-socket's
// PGLiteSocketServer). Only one process may own the data directory: a lock file says which
// does and where its server listens, so another process can use it through DATABASE_URL.
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { log } from '../logger.js';
import { PgliteWireServer } from './wire.js';
import { pidAlive } from '../embedded/guarded.js';

const logger = log('DB');

export interface EmbeddedServer {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

const openDirs = new Set<string>();


/** Takes <dir>.lock, or throws saying which live process holds it. */
function takeLock(lockPath: string, dir: string): void {
  if (openDirs.has(dir)) throw new Error(`embedded database ${dir} is already open in this process`);
  try {
    const held = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as { pid?: number; url?: string };
    if (typeof held.pid === 'number' && held.pid !== process.pid && pidAlive(held.pid)) {
      throw new Error(
        `embedded database ${dir} is in use by process ${held.pid}` +
          (held.url ? `; point this process at it with DATABASE_URL=${held.url}` : ''),
      );
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
  }
  openDirs.add(dir);
}

export async function startEmbedded(dataDir: string): Promise<EmbeddedServer> {
  const dir = path.resolve(dataDir, 'pglite');
  const lockPath = `${dir}.lock`;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  takeLock(lockPath, dir);
  let db: PGlite | undefined;
  let server: PgliteWireServer | undefined;
  try {
    const t0 = Date.now();
    db = await PGlite.create(dir);
    server = new PgliteWireServer(db, { host: '127.0.0.1', port: 0 });
    const { host, port } = await server.start();
    const url = `postgres://postgres@${host}:${port}/postgres`;
    fs.writeFileSync(lockPath, JSON.stringify({ pid: process.pid, url }));
    logger.info(`embedded Postgres (PGlite) ready in ${Date.now() - t0} ms`, { dir, url });
    let stopped = false;
    const s = server;
    const d = db;
    return {
      url,
      dir,
      async stop() {
        if (stopped) return;
        stopped = true;
        await s.stop();
        await d.close();
        fs.rmSync(lockPath, { force: true });
        openDirs.delete(dir);
      },
    };
  } catch (err) {
    await server?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    openDirs.delete(dir);
    throw err;
  }
}
