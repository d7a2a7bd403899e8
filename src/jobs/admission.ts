// A worker's load (issue 13): every few seconds it measures what its streams cost and what the
// machine has left (cpu-sample.ts), works out its headroom (capacity.ts) and sheds load evenly
// when its streams cannot keep their rate (shed-ladder.ts). The runtime asks admit() before it
// claims a start job, and advertises snapshot() with its heartbeat.
import type { Config } from '../config.js';
import type { WorkerCapacity } from '../streams/worker-beats.js';
import { log } from '../logger.js';
import type { RenderRates } from '../render/pipeline.js';
import { estimateCapacity, learnCost, learnSideCost, pacedHeadroom, type Capacity, type OthersAt } from './capacity.js';
import { CpuSampler, type CpuWindow } from './cpu-sample.js';
import { SHED_TUNING, costShare, describeLevel, nextShed, ratesAt, type ShedState } from './shed-ladder.js';

const logger = log('STREAMING-TASK');

/** The reason a stream waits when no worker has room (streams/worker-beats.ts owns it). */
export { NO_CAPACITY } from '../streams/worker-beats.js';

/** Share of the cores a shed step's restore leaves free (the admission margin is for new streams). */
const RESTORE_MARGIN = 0.05;

/** A stream's first seconds (FFmpeg starting, the first frames) say nothing about its steady cost. */
const SETTLE_MS = 10_000;

export interface LoadedStream {
  streamKey: string;
  pipeline: { stats(): { frames: number; dropped: number }; setRates(r: RenderRates): void };
  broadcastFps: number;
  previewFps: number;
}

interface Tracked {
  s: LoadedStream;
  since: number;
  last: { frames: number; dropped: number } | null;
}

/** What a worker advertises with its heartbeat: the record's capacity (streams/worker-beats.ts owns it). */
export type LoadSnapshot = WorkerCapacity;

export class WorkerLoad {
  private readonly sampler = new CpuSampler();
  private readonly streams = new Set<Tracked>();
  private learned: number | null = null;
  /** Cores the other processes take per stream of ours (capacity.ts learnSideCost). */
  private side: number | null = null;
  /** The others' load at the last settled stream count, and since when the count is what it is. */
  private othersAt: OthersAt | null = null;
  /** A worker starts with no stream, steady since ever: its first measurement is the others' load at 0. */
  private countSince = { streams: 0, at: 0 };
  private cpu: CpuWindow | null = null;
  private capacity: Capacity | null = null;
  private shed: ShedState = { level: 0, changedAt: 0, calmSince: null };
  /** The drop ratio smoothed over the last windows: one late burst on a busy machine is no squeeze. */
  private drops = 0;
  /** handovers: streams handed to another worker by rebalancing (rebalancer.ts counts them here, with the rest of the load's counts). */
  readonly counts = { refused: 0, shedUp: 0, shedDown: 0, handovers: 0 };

  constructor(
    private readonly config: Config,
    /** Streams this worker runs or is claiming (the runtime's count). */
    private readonly running: () => number,
  ) {}

  get measuring(): boolean {
    return this.config.ADMISSION === 'measured' || this.config.SHED_LOAD;
  }

  /** The cost per stream used now: configured (a fixed figure), learned, or the default. */
  get cost(): number {
    return this.config.ADMISSION_STREAM_CPU ?? this.learned ?? this.config.ADMISSION_DEFAULT_STREAM_CPU;
  }

  /** The stream's pipeline, for shedding; returns the undo. */
  register(s: LoadedStream): () => void {
    const t: Tracked = { s, since: Date.now(), last: null };
    this.streams.add(t);
    if (this.shed.level > 0) s.pipeline.setRates(ratesAt(this.shed.level, s));
    return () => void this.streams.delete(t);
  }

  /**
   * Over its headroom (rebalancing): shedding load, or (ADMISSION=measured) its streams take more
   * than the cores available after the margin (availableCores < 0: the cost grew, or a neighbour).
   */
  get over(): boolean {
    return this.shed.level > 0 || (this.config.ADMISSION === 'measured' && !!this.cpu && (this.capacity?.availableCores ?? 0) < 0);
  }

  /** The running streams and when each started here (ms). */
  streamsSince(): Array<{ streamKey: string; since: number }> {
    return [...this.streams].map((t) => ({ streamKey: t.s.streamKey, since: t.since }));
  }

  /**
   * May this worker take one more stream now? (Counts a refusal.) A stream that was already on
   * air (`resumed`: its worker died, handed it over, or Redis lost its job) is always taken, up to
   * WORKER_CONCURRENCY: measured capacity keeps new streams out, it never keeps a live one off
   * air. If the machine cannot hold it, the worker sheds load evenly (shed-ladder.ts).
   */
  admit(resumed = false): boolean {
    if (this.config.ADMISSION !== 'measured' || resumed) return true;
    const ok = this.headroom() >= 1;
    if (!ok) this.counts.refused += 1;
    return ok;
  }

  /**
   * The streams it can take now: paced while streams admitted within the settle time have not
   * shown what they cost (capacity.ts pacedHeadroom), unless the cost is configured.
   */
  private headroom(): number {
    const running = this.running();
    const cap = this.estimate(running);
    const unsettled = this.config.ADMISSION_STREAM_CPU === undefined ? this.unsettled(running) : 0;
    return pacedHeadroom(cap, unsettled);
  }

  /** Of `running` (streams run or being claimed), those too new for the measurement to show. */
  private unsettled(running: number, now = Date.now()): number {
    return Math.max(0, running - [...this.streams].filter((t) => now - t.since >= SETTLE_MS).length);
  }

  private estimate(streams: number, now = Date.now()): Capacity {
    // Unmeasured (no /proc yet): the machine counts as idle, only the cost per stream limits.
    const cpu = this.cpu ?? { cores: this.sampler.cores, idleCores: this.sampler.cores, ownCores: 0 };
    return estimateCapacity({
      cores: cpu.cores,
      idleCores: cpu.idleCores,
      ownCores: cpu.ownCores,
      streams,
      costPerStream: this.cost,
      margin: this.config.ADMISSION_MARGIN,
      concurrency: this.config.WORKER_CONCURRENCY,
      shedding: this.shed.level > 0,
      sideCost: this.config.ADMISSION_STREAM_CPU === undefined ? (this.side ?? 0) : 0,
      unsettled: this.unsettled(streams, now),
    });
  }

  snapshot(): LoadSnapshot {
    const measured = this.config.ADMISSION === 'measured';
    return {
      mode: this.config.ADMISSION,
      headroom: measured ? this.headroom() : Math.max(0, this.config.WORKER_CONCURRENCY - this.running()),
      cores: this.sampler.cores,
      cpuAvailable: this.cpu ? (this.capacity?.availableCores ?? null) : null,
      othersCores: this.cpu ? (this.capacity?.othersCores ?? null) : null,
      costPerStream: Math.round(this.cost * 100) / 100,
      othersPerStream: this.side === null ? null : Math.round(this.side * 100) / 100,
      shedLevel: this.shed.level,
    };
  }

  /** Two samples a second apart, before the first claim: admission starts from a measurement, not an idle guess. */
  async prime(): Promise<void> {
    if (!this.measuring) return;
    await this.tick();
    await new Promise((r) => setTimeout(r, 1000));
    await this.tick();
  }

  /**
   * The others' load moves with our stream count (the RTMP server, the web node's relay,
   * contention): compare settled windows either side of each change (none while shedding, when a
   * squeeze is what moves it).
   */
  private learnSide(streams: number, now: number): void {
    if (streams !== this.countSince.streams) this.countSince = { streams, at: now };
    const steady = streams === this.running() && now - this.countSince.at >= SETTLE_MS && this.shed.level === 0;
    const others = this.capacity?.othersCores;
    if (!steady || others === undefined) return;
    const at = { streams, others };
    if (this.othersAt && this.othersAt.streams !== streams) this.side = learnSideCost(this.side, this.othersAt, at, this.cost);
    this.othersAt = this.othersAt?.streams === streams ? { streams, others: 0.7 * this.othersAt.others + 0.3 * others } : at;
  }

  /** One measurement: CPU, cost, capacity, and the shed level (applied to every stream at once). */
  async tick(now = Date.now()): Promise<void> {
    if (!this.measuring) return;
    const cpu = await this.sampler.sample(now);
    if (cpu) this.cpu = cpu;
    const list = [...this.streams];
    let due = 0;
    let dropped = 0;
    for (const t of list) {
      const st = t.s.pipeline.stats();
      if (t.last && now - t.since >= 3000) {
        const d = Math.max(0, st.dropped - t.last.dropped);
        due += Math.max(0, st.frames - t.last.frames) + d;
        dropped += d;
      }
      t.last = { frames: st.frames, dropped: st.dropped };
    }
    const settled = list.length > 0 && list.length === this.running() && list.every((t) => now - t.since >= SETTLE_MS);
    if (cpu) this.learned = learnCost(this.learned, { ownCores: cpu.ownCores, streams: list.length, settled, shedding: this.shed.level > 0 });
    this.capacity = this.estimate(list.length, now);
    if (cpu) this.learnSide(list.length, now);
    if (!this.config.SHED_LOAD || !cpu) return;
    const before = this.shed.level;
    this.drops = 0.5 * this.drops + 0.5 * (due > 0 ? dropped / due : 0);
    const tuning = { ...SHED_TUNING, probeMs: this.config.SHED_PROBE_SECONDS * 1000, probeMaxMs: Math.max(SHED_TUNING.probeMaxMs, this.config.SHED_PROBE_SECONDS * 1000) };
    this.shed = nextShed(this.shed, {
      now,
      dropRatio: this.drops,
      // Spare cores: idle minus the margin (what the streams' current load leaves).
      // Restoring the rate the streams were admitted at needs only a small safety, not the
      // admission margin (which keeps room for the next stream): with the margin, two streams
      // squeezed to level 5 on 2 cores had not come back 120 s after the squeeze ended.
      spareCores: cpu.idleCores - cpu.cores * Math.min(RESTORE_MARGIN, this.config.ADMISSION_MARGIN),
      streamsCores: list.length * this.cost * costShare(before),
      streams: list.length,
    }, tuning);
    if (this.shed.level === before) return;
    if (this.shed.level > before) this.counts.shedUp += 1;
    else this.counts.shedDown += 1;
    for (const t of list) t.s.pipeline.setRates(ratesAt(this.shed.level, t.s));
    const pct = (100 * this.drops).toFixed(1);
    const what = list[0] ? describeLevel(this.shed.level, list[0].s) : `level ${this.shed.level}`;
    const msg = `load shed level ${before} → ${this.shed.level} for ${list.length} stream(s): ${what} (${pct} % of frames dropped, ${cpu.idleCores.toFixed(2)} of ${cpu.cores} cores idle)`;
    if (this.shed.level > before) logger.warn(msg);
    else logger.info(msg);
  }
}
