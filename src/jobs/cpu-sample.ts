// What the machine has left and what this worker takes, from /proc (Linux): the idle share of
// the CPUs this process may run on (its affinity: all of them unless pinned) from /proc/stat,
// and the CPU time of this process and of every process below it (the
// FFmpeg encoders and copy outputs), over a sliding window of a few seconds. Elsewhere (no
// /proc) it reports nothing and admission falls back to WORKER_CONCURRENCY alone.
import fs from 'node:fs/promises';
import os from 'node:os';
import { parseCpuList, parsePidStat, parseProcStat, type CpuTimes } from './capacity.js';

/** Clock ticks per second of /proc's counters (USER_HZ): 100 on every Linux we run on. */
const TICKS = 100;

interface Sample {
  at: number;
  machine: CpuTimes;
  /** pid → CPU ticks of our process tree. */
  tree: Map<number, number>;
}

export interface CpuWindow {
  cores: number;
  idleCores: number;
  ownCores: number;
  seconds: number;
}

async function readTree(root: number): Promise<Map<number, number>> {
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  const pids = (await fs.readdir('/proc')).filter((d) => /^\d+$/.test(d));
  await Promise.all(
    pids.map(async (d) => {
      const text = await fs.readFile(`/proc/${d}/stat`, 'utf8').catch(() => null);
      const s = text ? parsePidStat(text) : null;
      if (!s) return;
      parents.set(Number(d), s.ppid);
      ticks.set(Number(d), s.ticks);
    }),
  );
  const mine = new Map<number, number>();
  for (const [pid, t] of ticks) {
    let p: number | undefined = pid;
    for (let depth = 0; p && depth < 8; depth++, p = parents.get(p)) {
      if (p !== root) continue;
      mine.set(pid, t);
      break;
    }
  }
  return mine;
}

export class CpuSampler {
  private readonly samples: Sample[] = [];
  readonly cores = os.availableParallelism();
  /** The CPUs this process may run on (read once; undefined: not read yet, null: unknown, the total line). */
  private cpus: number[] | null | undefined;

  constructor(
    private readonly windowMs = 5000,
    private readonly root = process.pid,
  ) {}

  /** Take a sample; the window over the last `windowMs` (null until two samples exist, or without /proc). */
  async sample(now = Date.now()): Promise<CpuWindow | null> {
    if (this.cpus === undefined) {
      const status = await fs.readFile('/proc/self/status', 'utf8').catch(() => '');
      // Only a list that matches the cores counted (availableParallelism reads the same affinity).
      this.cpus = ((l) => (l && l.length === this.cores ? l : null))(parseCpuList(status));
    }
    const stat = await fs.readFile('/proc/stat', 'utf8').catch(() => null);
    const machine = stat ? parseProcStat(stat, this.cpus ?? undefined) : null;
    if (!machine) return null;
    const tree = await readTree(this.root).catch(() => new Map<number, number>());
    this.samples.push({ at: now, machine, tree });
    while (this.samples.length > 2 && now - this.samples[1].at >= this.windowMs) this.samples.shift();
    const first = this.samples[0];
    if (first === this.samples.at(-1)) return null;
    const seconds = (now - first.at) / 1000;
    const dTotal = machine.total - first.machine.total;
    if (dTotal <= 0 || seconds <= 0) return null;
    let own = 0;
    // A process that started within the window counts from 0; one that ended is gone from both ends.
    for (const [pid, t] of tree) own += Math.max(0, t - (first.tree.get(pid) ?? 0));
    const idleShare = (machine.idle - first.machine.idle) / dTotal;
    return { cores: this.cores, idleCores: idleShare * this.cores, ownCores: own / TICKS / seconds, seconds };
  }
}
