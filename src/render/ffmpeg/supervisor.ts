// Owns the encoder FFmpeg of one stream: feeds it frames without ever queueing behind it, hands
// on its MPEG-TS output ('data'), watches its progress, restarts it with backoff (retry.ts) when it
// exits or stalls, and gives up after repeated failures. The network is the outputs' business
// (fanout.ts): a destination that fails never touches the encoder.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { log, redactKey } from '../../logger.js';
import { buildEncoderArgs, inputFrameBytes, PROGRESS_FD, redact } from './args.js';
import { FailureCount, type RetryOptions } from './retry.js';
import { ProgressParser, RateWindow, type ProgressBlock } from './progress.js';
import { liveChildren, readLines, trackChild } from './child.js';
import type { FfmpegHealth, FfmpegStats, FfmpegSupervisorEvents, FfmpegSupervisorOptions, FrameStage, HealthEvent } from './supervisor-types.js';

export type * from './supervisor-types.js';

const STDERR_TAIL_LINES = 5;
const STDERR_LOG_LINES_PER_RUN = 20;
const STALL_CHECK_MS = 250;
/** Frames that may wait for FFmpeg at once (each is one input frame: width×height×4 bytes RGBA, ×1.5 I420). */
const MAX_PENDING_FRAMES = 3;

/** One FFmpeg process; events of an old run never touch the next one. */
interface Run {
  child: ChildProcess;
  stdin: Writable;
  startedAt: number;
  liveAt?: number;
  lastProgressAt: number;
  lastFrame: number;
  /** Frames handed to stdin that FFmpeg has not taken yet. */
  pending: number;
  ended: boolean;
  stalled: boolean;
  stderrTail: string[];
  stderrLogged: number;
  rates: RateWindow;
  /** total_size of this run's last progress block. */
  bytes: number;
}

export class FfmpegSupervisor extends EventEmitter<FfmpegSupervisorEvents> {
  private readonly logger = log('FFMPEG');
  private readonly args: string[];
  private readonly frameBytes: number;
  private readonly tag: string;
  private health: FfmpegHealth = 'stopped';
  private run?: Run;
  private started = false;
  private stopping?: Promise<void>;
  private restartTimer?: NodeJS.Timeout;
  private stallTimer?: NodeJS.Timeout;
  private readonly failures: FailureCount;
  private restarts = 0;
  private lastError: string | null = null;
  private framesWritten = 0;
  private framesDropped = 0;
  /** Last writeFrame call: a stall only counts while frames are being offered. */
  private lastOfferAt = 0;
  /** Bytes of the runs that ended (total_size restarts at 0 with each run). */
  private bytesBefore = 0;
  private sawBytes = false;
  private readonly restartReasons: Record<string, number> = {};
  private nextRestartReason = 'exited';
  /** Seconds from a frame's render to FFmpeg taking it, since the last takeLatencies() (bounded). */
  private latencies: number[] = [];

  /** `stage`: converts each frame taken to the encoder's input format (settings.inputPixFmt). */
  constructor(
    private readonly opts: FfmpegSupervisorOptions,
    private readonly stage?: FrameStage,
  ) {
    super();
    this.args = buildEncoderArgs(opts.settings);
    this.failures = new FailureCount(opts.retry);
    const input = inputFrameBytes(opts.settings);
    if (stage && stage.outBytes !== input) throw new Error(`frame stage makes ${stage.outBytes}-byte frames, the encoder takes ${input}`);
    this.frameBytes = stage ? stage.srcBytes : input;
    this.tag = `stream ${redactKey(opts.streamKey)}`;
  }

  start(): void {
    if (this.stopping) throw new Error('FfmpegSupervisor: start() after stop(); create a new supervisor');
    if (this.started) return;
    this.started = true;
    this.setHealth('starting');
    this.stallTimer = setInterval(() => this.checkStall(), STALL_CHECK_MS);
    this.stallTimer.unref();
    this.spawnRun();
  }

  /**
   * Writes one frame to FFmpeg's stdin (RGBA, or the input format itself without a stage). Returns false — frame not written, count it as
   * dropped — when FFmpeg is not running or still has MAX_PENDING_FRAMES frames it has not
   * taken. The slack (up to 100 ms at 30 fps) absorbs an encoder that is late now and then on a
   * busy machine (with none, every such hiccup was a dropped frame: 4 streams on 2 cores dropped
   * 3-13 frames in 20 s with 2, none with 3); beyond it frames are dropped, never queued.
   * The buffer must not be modified afterwards (it is written, or its conversion reused, later).
   */
  writeFrame(frame: Buffer, renderedAt?: number): boolean {
    if (frame.length !== this.frameBytes) {
      const fmt = this.stage ? 'RGBA' : (this.opts.settings.inputPixFmt ?? 'rgba');
      throw new RangeError(`frame is ${frame.length} bytes, expected ${this.frameBytes} (${this.opts.settings.width}x${this.opts.settings.height} ${fmt})`);
    }
    this.lastOfferAt = Date.now();
    const run = this.run;
    if (!run || run.ended || this.stopping || run.pending >= MAX_PENDING_FRAMES || !run.stdin.writable) {
      this.framesDropped += 1;
      return false;
    }
    const since = renderedAt ?? performance.now();
    const out = this.stage ? this.stage.convert(frame) : frame;
    run.pending += 1;
    // Called once the pipe has taken every byte, or with the error when the run died.
    run.stdin.write(out, () => {
      this.stage?.written(out);
      run.pending -= 1;
      if (this.latencies.length < 1024) this.latencies.push((performance.now() - since) / 1000);
    });
    this.framesWritten += 1;
    return true;
  }

  /** Ends stdin so FFmpeg flushes and closes the FLV; SIGTERM at half the bound, SIGKILL at the bound. */
  stop(timeoutMs = 5000): Promise<void> {
    this.stopping ??= this.stopNow(timeoutMs);
    return this.stopping;
  }

  stats(): FfmpegStats {
    const live = this.run && !this.run.ended ? this.run : undefined;
    const rates = live ? live.rates.rates() : { fps: 0 };
    return {
      framesWritten: this.framesWritten,
      framesDropped: this.framesDropped,
      restarts: this.restarts,
      lastError: this.lastError,
      health: this.health,
      fps: rates.fps,
      ...(rates.bitrateKbps !== undefined ? { bitrateKbps: rates.bitrateKbps } : {}),
      ...(this.sawBytes ? { bytes: this.bytesBefore + (this.run?.bytes ?? 0) } : {}),
      restartReasons: { ...this.restartReasons },
      pid: live?.child.pid,
    };
  }

  /** The render → FFmpeg latencies measured since the last call (for a histogram). */
  takeLatencies(): number[] {
    const l = this.latencies;
    this.latencies = [];
    return l;
  }

  private async stopNow(timeoutMs: number): Promise<void> {
    clearTimeout(this.restartTimer);
    clearInterval(this.stallTimer);
    const run = this.run;
    if (run && !run.ended) {
      const exited = new Promise<void>((resolve) => run.child.once('close', () => resolve()));
      const term = setTimeout(() => run.child.kill('SIGTERM'), timeoutMs / 2);
      const kill = setTimeout(() => {
        this.logger.warn(`${this.tag}: FFmpeg did not exit within ${timeoutMs} ms of stop, killing it`);
        run.child.kill('SIGKILL');
      }, timeoutMs);
      run.stdin.end();
      await exited;
      clearTimeout(term);
      clearTimeout(kill);
    }
    if (this.started) this.logger.info(`${this.tag}: stopped (${this.framesWritten} frames written, ${this.framesDropped} dropped, ${this.restarts} restarts)`);
    this.setHealth('stopped');
  }

  private spawnRun(): void {
    const child = spawn(this.opts.ffmpegPath, this.args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], windowsHide: true });
    const now = Date.now();
    const run: Run = {
      child,
      stdin: child.stdin as Writable,
      startedAt: now,
      lastProgressAt: now,
      lastFrame: 0,
      pending: 0,
      ended: false,
      stalled: false,
      stderrTail: [],
      stderrLogged: 0,
      rates: new RateWindow(),
      bytes: 0,
    };
    if (this.run) this.bytesBefore += this.run.bytes;
    this.run = run;
    if (child.pid !== undefined) trackChild(child);
    this.logger.info(`${this.tag}: encoder started (pid ${child.pid ?? '?'})`);
    this.emit('run');
    child.stdout!.on('data', (chunk: Buffer) => {
      if (this.run === run && !run.ended) this.emit('data', chunk);
    });

    // EPIPE when FFmpeg dies with a frame in flight: the exit handler reports it.
    run.stdin.on('error', () => {});
    const progress = new ProgressParser((block) => this.onProgress(run, block));
    const progressStream = child.stdio[PROGRESS_FD] as Readable;
    progressStream.setEncoding('utf8');
    progressStream.on('data', (chunk: string) => progress.push(chunk));

    readLines(child.stderr!, (line) => this.onStderrLine(run, line));

    child.on('error', (err) => this.onRunEnded(run, `could not run FFmpeg (${this.opts.ffmpegPath}): ${err.message}`));
    child.on('close', (code, signal) => this.onRunEnded(run, signal ? `FFmpeg killed by ${signal}` : `FFmpeg exited with code ${code}`));
  }

  private onStderrLine(run: Run, raw: string): void {
    const line = redact(raw.trim(), this.opts.streamKey);
    if (!line) return;
    run.stderrTail.push(line);
    if (run.stderrTail.length > STDERR_TAIL_LINES) run.stderrTail.shift();
    if (run.stderrLogged < STDERR_LOG_LINES_PER_RUN) {
      run.stderrLogged += 1;
      this.logger.warn(`${this.tag}: ffmpeg: ${line}`);
    }
  }

  private onProgress(run: Run, block: ProgressBlock): void {
    if (run.ended) return;
    const now = Date.now();
    run.rates.push(block, now);
    if (block.totalSize !== undefined) {
      run.bytes = block.totalSize;
      this.sawBytes = true;
    }
    if (block.frame <= run.lastFrame) return;
    run.lastFrame = block.frame;
    run.lastProgressAt = now;
    if (run.liveAt === undefined && this.run === run && !this.stopping) {
      run.liveAt = now;
      this.logger.info(`${this.tag}: live (pid ${run.child.pid}, ${Math.round(now - run.startedAt)} ms after start)`);
      this.setHealth('live');
    }
  }

  private checkStall(): void {
    const run = this.run;
    if (!run || run.ended || run.stalled || this.stopping) return;
    const now = Date.now();
    const limitMs = this.opts.stallSeconds * 1000;
    // FFmpeg waiting for frames nobody sends is not FFmpeg's fault.
    const starving = this.lastOfferAt < now - limitMs;
    if (now - run.lastProgressAt < limitMs || starving) return;
    run.stalled = true;
    this.logger.warn(`${this.tag}: no progress for ${this.opts.stallSeconds} s, killing FFmpeg (pid ${run.child.pid})`);
    run.child.kill('SIGKILL');
  }

  private onRunEnded(run: Run, reason: string): void {
    if (run.ended) return;
    run.ended = true;
    liveChildren.delete(run.child);
    if (this.stopping || this.run !== run) return;

    const now = Date.now();
    const why = run.stalled ? `stalled: no progress for ${this.opts.stallSeconds} s` : reason;
    this.nextRestartReason = run.stalled ? 'stalled' : /killed by/.test(reason) ? 'killed' : /could not run/.test(reason) ? 'spawn' : 'exited';
    this.lastError = redact([why, ...run.stderrTail].join('\n'), this.opts.streamKey);
    const failures = this.failures.failed(run.liveAt === undefined ? null : now - run.liveAt);
    const ranFor = `${((now - run.startedAt) / 1000).toFixed(1)} s`;

    if (failures >= this.opts.maxFailures) {
      clearInterval(this.stallTimer);
      this.logger.error(`${this.tag}: ${why} after ${ranFor}; ${failures} consecutive failures, giving up`);
      this.setHealth('failed');
      this.emit('failed', this.healthEvent());
      return;
    }
    const delay = this.failures.delayMs();
    this.logger.warn(`${this.tag}: ${why} after ${ranFor}; restarting in ${delay} ms (failure ${failures}/${this.opts.maxFailures})`);
    this.setHealth('reconnecting', true);
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.restarts += 1;
      this.restartReasons[this.nextRestartReason] = (this.restartReasons[this.nextRestartReason] ?? 0) + 1;
      this.spawnRun();
    }, delay);
  }

  private healthEvent(): HealthEvent {
    return { health: this.health, restarts: this.restarts, lastError: this.lastError };
  }

  private setHealth(health: FfmpegHealth, always = false): void {
    if (health === this.health && !always) return;
    this.health = health;
    this.emit('health', this.healthEvent());
  }
}
