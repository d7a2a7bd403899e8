// A render loop paced on the clock: frame n is due at start + n/fps, so it never drifts.
// When a tick runs late by more than a period, the missed ticks are skipped and counted,
// never queued.
import { performance } from 'node:perf_hooks';

export interface TickInfo {
  /** Frame number since start (skipped ticks keep their numbers). */
  frame: number;
  /** Wall-clock time the frame was due, ms since epoch. */
  dueMs: number;
}

export class RenderLoop {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private startPerf = 0;
  private startWall = 0;
  private next = 0;
  ticks = 0;
  skipped = 0;

  constructor(
    readonly fps: number,
    private readonly tick: (t: TickInfo) => void,
  ) {}

  get periodMs(): number {
    return 1000 / this.fps;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startPerf = performance.now();
    this.startWall = Date.now();
    this.next = 0;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (!this.running) return;
    const due = this.startPerf + this.next * this.periodMs;
    this.timer = setTimeout(() => this.run(), Math.max(0, due - performance.now()));
  }

  private run(): void {
    if (!this.running) return;
    const now = performance.now();
    const behind = Math.floor((now - this.startPerf) / this.periodMs);
    if (behind > this.next) {
      // Late by more than one period: skip to the current slot.
      this.skipped += behind - this.next;
      this.next = behind;
    }
    const frame = this.next;
    this.next += 1;
    this.ticks += 1;
    try {
      this.tick({ frame, dueMs: this.startWall + frame * this.periodMs });
    } finally {
      this.schedule();
    }
  }
}
