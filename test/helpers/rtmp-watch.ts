// Watches an RTMP stream as a viewer would, across publisher changes: an FFmpeg reader that is
// started again whenever it ends (the server drops players when the publisher goes), recording
// when frames arrive. Gives the longest gap in the output and whether it is on air now.
import { spawn, type ChildProcess } from 'node:child_process';

export interface RtmpWatch {
  /** Arrival times (ms) of progress reports that carried new frames. */
  arrivals: number[];
  /** ms of the last frame seen; 0 before the first. */
  lastFrameAt(): number;
  /** Frames seen within the last `ms`. */
  onAir(ms?: number): boolean;
  /** Longest interval without frames between `from` and `to` (ms; default: whole watch). */
  longestGap(from?: number, to?: number): number;
  close(): void;
}

export function watchRtmp(url: string, opts: { retryMs?: number } = {}): RtmpWatch {
  const arrivals: number[] = [];
  let child: ChildProcess | null = null;
  let closed = false;
  const started = Date.now();

  const run = () => {
    if (closed) return;
    const c = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-rw_timeout', '3000000', '-i', url, '-map', '0:v', '-c', 'copy', '-f', 'null', '-', '-progress', 'pipe:1', '-stats_period', '0.2'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    child = c;
    let frames = 0;
    let buf = '';
    c.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.startsWith('frame=')) continue;
        const n = Number(line.slice(6));
        if (n > frames) arrivals.push(Date.now());
        frames = n;
      }
    });
    c.on('exit', () => {
      if (!closed) setTimeout(run, opts.retryMs ?? 200);
    });
  };
  run();

  return {
    arrivals,
    lastFrameAt: () => arrivals.at(-1) ?? 0,
    onAir: (ms = 1500) => (arrivals.at(-1) ?? 0) > Date.now() - ms,
    longestGap(from = started, to = Date.now()) {
      const t = [from, ...arrivals.filter((a) => a > from && a < to), to];
      let gap = 0;
      for (let i = 1; i < t.length; i++) gap = Math.max(gap, t[i] - t[i - 1]);
      return gap;
    },
    close() {
      closed = true;
      child?.kill('SIGKILL');
    },
  };
}
