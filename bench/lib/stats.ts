// Small helpers for benchmarks: percentiles and process CPU/RSS read from /proc.
import fs from 'node:fs';
import os from 'node:os';

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

export const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user+sys) and RSS of a process, from /proc. */
export function procUsage(pid: number): { cpuSeconds: number; rssMB: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS;
  const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds, rssMB: rss ? Number(rss[1]) / 1024 : NaN };
}

/** Peak RSS sampler for a pid. */
export function sampleRss(pid: number, everyMs = 250): { stop(): { peakMB: number; lastMB: number } } {
  let peak = 0;
  let last = 0;
  const t = setInterval(() => {
    try {
      last = procUsage(pid).rssMB;
      peak = Math.max(peak, last);
    } catch {
      /* gone */
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(t);
      return { peakMB: peak, lastMB: last };
    },
  };
}

/** One line on the machine, printed first by every benchmark: its figures depend on it. */
export function printMachine(): void {
  console.log(`${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine skews the figures)`);
}
