// Memory of processes from /proc, for the memory benchmarks: RSS and PSS (shared pages split
// between the processes that map them: what the machine really spends), and a process's children.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

/** /proc/<pid>/smaps_rollup in MB by field (Rss, Pss, Private_Dirty, …); empty when the process is gone. */
export function smaps(pid: number): Record<string, number> {
  try {
    const out: Record<string, number> = {};
    for (const m of fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').matchAll(/^(\w+):\s+(\d+) kB/gm)) out[m[1]] = Number(m[2]) / 1024;
    return out;
  } catch {
    return {};
  }
}

/** RSS and PSS of one process (MB). */
export function mem(pid: number): { rss: number; pss: number } {
  const m = smaps(pid);
  return { rss: m.Rss ?? 0, pss: m.Pss ?? 0 };
}

/** The children of `pid` with their command lines. */
function children(pid: number): Array<{ pid: number; args: string }> {
  try {
    return execFileSync('ps', ['--ppid', String(pid), '-o', 'pid=,args='], { encoding: 'utf8' })
      .trim().split('\n').filter(Boolean)
      .map((l) => { const m = /^\s*(\d+)\s+(.*)$/.exec(l)!; return { pid: Number(m[1]), args: m[2] }; });
  } catch {
    return [];
  }
}

/** PSS (MB) of a worker's FFmpeg children: the encoders (raw video on stdin) and the copy outputs. */
export function ffmpegPss(workerPid: number): { encoders: number; outputs: number; rss: number } {
  let encoders = 0;
  let outputs = 0;
  let rss = 0;
  for (const c of children(workerPid).filter((c) => /ffmpeg/.test(c.args))) {
    const m = mem(c.pid);
    rss += m.rss;
    if (/rawvideo/.test(c.args)) encoders += m.pss;
    else outputs += m.pss;
  }
  return { encoders, outputs, rss };
}
