// Shared pieces of the realtime benchmarks: a web node in its own process (so its CPU and RSS
// can be read from /proc), client processes driven over IPC, and small statistics.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPEN_LIMITS } from '../../test/helpers/env.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The service's API_TOKEN in these benchmarks: registering as a STREAMER needs it. */
export const BENCH_TOKEN = 'bench-token-123';

export interface Server {
  pid: number;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** test/fixtures/web-node.ts in its own process (node --import tsx: the pid is the server's). */
export async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const child = fork(path.join(ROOT, 'test/fixtures/web-node.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', ...(process.env.SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REDIS_URL, NODE_ENV: 'production', API_TOKEN: BENCH_TOKEN, LOG_LEVEL: 'warn', LOG_FORMAT: 'pretty', ...OPEN_LIMITS, ...env },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** CPU seconds (user+system) and RSS (MiB) of a process, from /proc. */
export function procSample(pid: number): { cpu: number; rssMiB: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpu: ticks / 100, rssMiB: rssKb / 1024 };
}

/** Samples a process every second; stop() gives CPU % over the window and RSS figures. */
export function monitor(pid: number) {
  const first = procSample(pid);
  const t0 = performance.now();
  const rss: number[] = [first.rssMiB];
  const timer = setInterval(() => {
    try {
      rss.push(procSample(pid).rssMiB);
    } catch {
      /* gone */
    }
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      const last = procSample(pid);
      const secs = (performance.now() - t0) / 1000;
      rss.push(last.rssMiB);
      return {
        cpuPercent: (100 * (last.cpu - first.cpu)) / secs,
        rssStartMiB: first.rssMiB,
        rssMaxMiB: Math.max(...rss),
        rssEndMiB: last.rssMiB,
        rss,
      };
    },
  };
}

/** A client process (bench/realtime/clients.ts) answering one request per message. */
export interface Clients {
  child: ChildProcess;
  request<T>(msg: object): Promise<T>;
  stop(): void;
}

export function startClients(): Clients {
  const child = fork(path.join(ROOT, 'bench/realtime/clients.ts'), [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    child,
    request<T>(msg: object) {
      return new Promise<T>((resolve, reject) => {
        const onMsg = (m: T) => {
          child.off('exit', onExit);
          resolve(m);
        };
        const onExit = (code: number) => reject(new Error(`client process exited with ${code}`));
        child.once('message', onMsg);
        child.once('exit', onExit);
        child.send(msg);
      });
    },
    stop() {
      child.kill('SIGKILL');
    },
  };
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : String(n));
