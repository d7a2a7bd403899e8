// How many more streams this worker can hold at full frame rate (issue 13). Pure: the numbers
// come from cpu-sample.ts (/proc), the decisions from here, so both are tested apart.
//
// The machine's cores are shared three ways: this worker's streams (its process and its FFmpeg
// children), everyone else (other workers, a noisy neighbour, the hypervisor's steal), and a
// safety margin kept free. What the others take is measured (the machine's busy time minus our
// own), never assumed; what a stream costs is our own CPU divided by our streams, learned while
// streams run at full rate, and a configured default before the first one.

export interface CapacityInput {
  /** Cores of the machine (os.availableParallelism()). */
  cores: number;
  /** Cores idle over the last window (/proc/stat idle + iowait share × cores). */
  idleCores: number;
  /** Cores this worker used over the last window (its process + its FFmpeg children). */
  ownCores: number;
  /** Streams this worker runs or has admitted. */
  streams: number;
  /** Cores one stream costs (learned or configured). */
  costPerStream: number;
  /** Share of the cores kept free (0.15: 15 %). */
  margin: number;
  /** WORKER_CONCURRENCY: the upper bound whatever the CPU says. */
  concurrency: number;
  /** The worker is shedding load (its streams do not keep their rate): it takes nothing new. */
  shedding?: boolean;
  /**
   * Cores the machine's other processes take per stream of ours (learnSideCost): the RTMP server
   * taking it in, the web node relaying its previews, contention. A new stream adds it to `others`.
   */
  sideCost?: number;
  /** Of `streams`, those admitted too recently for `others` to show their side cost yet. */
  unsettled?: number;
}

export interface Capacity {
  /** How many more streams it can take now (0: none). */
  headroom: number;
  /** Cores left for new streams after the margin (may be negative: overcommitted). */
  availableCores: number;
  /** Cores the other processes of the machine take. */
  othersCores: number;
  costPerStream: number;
  /** Cores one more stream adds to the others' load (0 until learned). */
  sideCost: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export function estimateCapacity(i: CapacityInput): Capacity {
  const cost = Math.max(0.01, i.costPerStream);
  const others = Math.max(0, i.cores - i.idleCores - i.ownCores);
  // Our streams are counted at their cost (not at what they took in the window), so a stream
  // admitted a moment ago counts before the measurement sees it.
  const side = Math.max(0, i.sideCost ?? 0);
  const available = i.cores * (1 - i.margin) - others - i.streams * cost - (i.unsettled ?? 0) * side;
  let headroom = Math.floor(available / (cost + side) + 1e-9);
  // A worker without streams takes one: its real cost is unknown until measured, and an idle
  // worker refusing every stream would leave it nowhere to go.
  if (i.streams === 0) headroom = Math.max(headroom, 1);
  if (i.shedding) headroom = 0;
  headroom = Math.max(0, Math.min(headroom, i.concurrency - i.streams));
  return { headroom, availableCores: round2(available), othersCores: round2(others), costPerStream: round2(cost), sideCost: round2(side) };
}

/**
 * Headroom while `unsettled` streams have not shown their cost yet (theirs, and what they add
 * elsewhere): a new stream needs room for itself and as many again, as if each of those could
 * cost double, so a burst of starts fills a worker in waves, each measured before the next.
 */
export function pacedHeadroom(cap: Capacity, unsettled: number): number {
  if (unsettled <= 0) return cap.headroom;
  const fits = Math.floor(cap.availableCores / (cap.costPerStream + cap.sideCost) + 1e-9);
  return Math.max(0, Math.min(cap.headroom, fits - unsettled));
}

/** What the other processes took (cores) while this worker ran `streams` settled streams. */
export interface OthersAt {
  streams: number;
  others: number;
}

/**
 * Learn the side cost of a stream from two settled windows either side of a change in our
 * stream count: how much the others' load moved per stream added (or removed), smoothed. A
 * neighbour that came or went meanwhile is indistinguishable, so a sample is kept between 0 and
 * the stream's own cost (at worst a stream counts double until the next change corrects it).
 */
export function learnSideCost(previous: number | null, before: OthersAt, now: OthersAt, ownCost: number, alpha = 0.5): number | null {
  const d = now.streams - before.streams;
  if (d === 0 || !Number.isFinite(now.others) || !Number.isFinite(before.others)) return previous;
  const sample = Math.max(0, Math.min(ownCost, (now.others - before.others) / d));
  return previous === null ? sample : previous + alpha * (sample - previous);
}

/**
 * Learn a stream's cost from one window: our cores over our streams, smoothed. Windows that
 * say little are skipped: no stream, a stream still starting (its first seconds cost more, or
 * less), or shed load (streams at a reduced rate cost less than at full rate).
 */
export function learnCost(previous: number | null, window: { ownCores: number; streams: number; settled: boolean; shedding: boolean }, alpha = 0.3): number | null {
  if (window.streams <= 0 || !window.settled || window.shedding) return previous;
  const sample = window.ownCores / window.streams;
  if (!Number.isFinite(sample) || sample <= 0) return previous;
  return previous === null ? sample : previous + alpha * (sample - previous);
}

/** CPU counters of /proc/stat's first line, in clock ticks. */
export interface CpuTimes {
  idle: number;
  total: number;
}

/**
 * "cpu  user nice system idle iowait irq softirq steal guest guest_nice" → idle (+iowait) and
 * total (guest time is inside user). With `cpus` (the CPUs this process may run on), the sum of
 * those CPUs' own lines: a worker pinned to some cores (taskset, a cpuset) measures what they
 * have left, not the whole machine.
 */
export function parseProcStat(text: string, cpus?: readonly number[]): CpuTimes | null {
  const wanted = cpus?.length ? new Set(cpus.map((c) => `cpu${c}`)) : new Set(['cpu']);
  const sum = { idle: 0, total: 0, lines: 0 };
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (!wanted.has(f[0])) continue;
    const n = f.slice(1, 9).map(Number);
    if (n.length < 4 || n.some((x) => !Number.isFinite(x))) return null;
    sum.idle += n[3] + (n[4] ?? 0);
    sum.total += n.reduce((a, b) => a + b, 0);
    sum.lines += 1;
  }
  return sum.lines ? { idle: sum.idle, total: sum.total } : null;
}

/** /proc/self/status's "Cpus_allowed_list:\t0-2,4" → [0, 1, 2, 4]; null when absent or odd (at most 4096 CPUs). */
export function parseCpuList(status: string): number[] | null {
  const m = /^Cpus_allowed_list:\s*([\d,\s-]+)$/m.exec(status);
  if (!m) return null;
  const out: number[] = [];
  for (const part of m[1].trim().split(',')) {
    const [a, b = a] = part.split('-').map(Number);
    if (!Number.isInteger(a) || !Number.isInteger(b) || a > b || b > 4095) return null;
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out.length ? out : null;
}

/** /proc/<pid>/stat → [ppid, utime + stime in ticks]; the command name may hold spaces and parentheses. */
export function parsePidStat(text: string): { ppid: number; ticks: number } | null {
  const end = text.lastIndexOf(')');
  if (end < 0) return null;
  const f = text.slice(end + 2).split(' ');
  // After the name: state(0) ppid(1) … utime(11) stime(12).
  const ppid = Number(f[1]);
  const ticks = Number(f[11]) + Number(f[12]);
  return Number.isFinite(ppid) && Number.isFinite(ticks) ? { ppid, ticks } : null;
}
