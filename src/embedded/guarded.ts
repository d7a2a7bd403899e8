// Servers that `npm start` runs for a laptop (redis-server, postgres) must stop LAST and never
// outlive us. So each runs under a tiny shell watchdog that is
// - in its own process group (detached): a terminal's Ctrl-C reaches the app, not the server;
// - tied to us by its stdin pipe: when we close it, or die (even by SIGKILL), the shell sees
//   EOF and sends the server its stop signal, then waits for it.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

// fd 3 keeps the pipe; the server itself gets /dev/null. `wait` returns when the server exits
// on its own too, and then the reader is killed so the shell ends.
const WATCHDOG = [
  'exec 3<&0 </dev/null',
  '"$@" & c=$!',
  '{ read -r _ <&3; kill -s "$SF_STOP_SIGNAL" "$c" 2>/dev/null; } &',
  'w=$!',
  'wait "$c"; s=$?',
  'kill "$w" 2>/dev/null',
  'exit "$s"',
].join('\n');

export interface GuardedProcess {
  /** The watchdog shell (its pid is the process group of the server). */
  child: ChildProcess;
  /** Resolves with the server's exit status when it has exited. */
  exited: Promise<number | null>;
  /** Asks the server to stop (its stop signal) and waits; SIGKILLs the group after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface GuardedOptions extends Pick<SpawnOptions, 'cwd' | 'env' | 'uid' | 'gid'> {
  /** Signal that stops the server cleanly (redis: SIGTERM; postgres fast shutdown: SIGINT). */
  stopSignal?: NodeJS.Signals;
  /** Where the server's stdout/stderr go: ignored (default) or an open file descriptor. */
  output?: 'ignore' | number;
}

export function spawnGuarded(cmd: string, args: string[], opts: GuardedOptions = {}): GuardedProcess {
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'sf-watchdog', cmd, ...args], {
    cwd: opts.cwd,
    env: { ...(opts.env ?? process.env), SF_STOP_SIGNAL: (opts.stopSignal ?? 'SIGTERM').replace(/^SIG/, '') },
    uid: opts.uid,
    gid: opts.gid,
    detached: true,
    stdio: ['pipe', opts.output ?? 'ignore', opts.output ?? 'ignore'],
  });
  child.stdin!.on('error', () => {}); // EPIPE when the server already exited
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
  let stopping: Promise<void> | null = null;
  return {
    child,
    exited,
    stop(timeoutMs = 10_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode) return;
        child.stdin!.end();
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }, timeoutMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** Whether a process with this pid is alive (EPERM: alive, but another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
