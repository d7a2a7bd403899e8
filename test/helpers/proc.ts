// Child processes of the service's real entry points (src/web.ts, src/worker.ts), for tests of
// what crosses process boundaries: a killed worker, two web nodes.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/embedded/redis.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// node --import tsx, not the tsx CLI: the CLI runs the program in a child process that a
// SIGKILL of the parent would leave running.

export interface Proc {
  child: ChildProcess;
  output: () => string;
  port?: number;
  /** Resolves when a line matching `re` was printed. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `cpus`: run pinned to these CPUs (`taskset -c 0`, which execs node: same pid, its children inherit the pinning). */
export function spawnEntry(entry: string, env: Record<string, string>, opts: { cpus?: string } = {}): Proc {
  const args = entry.endsWith('.js') ? [path.join(ROOT, entry)] : ['--import', 'tsx', path.join(ROOT, entry)];
  const [cmd, argv] = opts.cpus ? ['taskset', ['-c', opts.cpus, process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, {
    cwd: ROOT,
    env: { ...process.env, LOG_FORMAT: 'pretty', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const watchers: Array<() => void> = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    watchers.forEach((w) => w());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    waitFor(re, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) {
            clearTimeout(t);
            resolve(m);
            return true;
          }
          return false;
        };
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${out.slice(-2000)}`)), timeoutMs);
        if (!check()) watchers.push(() => void check());
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Entry points run from src/ (tsx), or from the production build in dist/ when `built`. */
const entry = (role: 'web' | 'worker', built?: boolean) => (built ? `dist/${role}.js` : `src/${role}.ts`);

export async function spawnWeb(env: Record<string, string>, opts: { built?: boolean } = {}): Promise<Proc & { port: number; url: string }> {
  const port = await freePort();
  const p = spawnEntry(entry('web', opts.built), { ...env, PORT: String(port), LOG_LEVEL: 'info' });
  await p.waitFor(/web listening on/);
  return Object.assign(p, { port, url: `http://127.0.0.1:${port}` });
}

export async function spawnWorker(env: Record<string, string>, opts: { built?: boolean; cpus?: string } = {}): Promise<Proc & { workerId: string }> {
  const p = spawnEntry(entry('worker', opts.built), { ...env, LOG_LEVEL: 'info' }, { cpus: opts.cpus });
  // One core of a busy machine starts a worker slowly; one that never gets ready is not left behind.
  const m = await p.waitFor(/worker (\S+) ready/, opts.cpus ? 60_000 : 15_000).catch(async (err) => {
    await p.kill('SIGKILL');
    throw err;
  });
  return Object.assign(p, { workerId: m[1] });
}
