// One output of a stream's encode: a `-c copy` FFmpeg fed the encoder's MPEG-TS on its stdin,
// writing to one RTMP destination (FLV) or to the local HLS directory. Each has its own process,
// status and reconnect: it joins at the last keyframe, restarts with the shared backoff
// (retry.ts) for as long as it exists, and never holds up the encoder or the other outputs.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { log, redactKey } from '../../logger.js';
import { buildDestinationArgs, buildHlsArgs, PROGRESS_FD, redact, redactSecretsOf, redactUrl } from './args.js';
import { ProgressParser } from './progress.js';
import { FailureCount, type RetryOptions } from './retry.js';
import { hostPort, tcpReachable } from './reachability.js';
import { endKind, Refusals } from './refusal.js';

export type OutputHealth = 'starting' | 'live' | 'reconnecting' | 'failed';

/** An RTMP destination of a stream (plain data: it crosses threads and sits in the start payload). */
export interface Destination {
  id: string;
  url: string;
  name?: string;
}

export interface OutputStatus {
  id: string;
  name: string;
  /** The URL with its key (last path segment) and query redacted. */
  url: string;
  health: OutputHealth;
  /** Unix seconds of the last change of health. */
  since: number;
  /** Bytes written to the destination over all runs. */
  bytes: number;
  restarts: number;
  lastError: string | null;
}

export interface CopyOutputOptions {
  ffmpegPath: string;
  /** For the log line and redaction of the stream's own key. */
  streamKey: string;
  stallSeconds: number;
  retry?: RetryOptions;
  /** The bytes to start with: the current GOP from its keyframe (empty before the first one). */
  snapshot(): Buffer;
}

export type OutputTarget = { kind: 'rtmp'; dest: Destination } | { kind: 'hls'; dir: string };

/** Bytes that may wait in an output's stdin (~13 s at 2.5 Mbit/s) before it counts as stuck. */
const MAX_BUFFERED = 4 * 1024 * 1024;
const CHECK_MS = 500;
const PROBE_MS = 250;
const STDERR_TAIL_LINES = 4;
const STDERR_LOG_LINES_PER_RUN = 10;

interface Run {
  child: ChildProcess;
  stdin: Writable;
  startedAt: number;
  liveAt?: number;
  lastProgressAt: number;
  lastFrame: number;
  totalSize: number;
  joined: boolean;
  ended: boolean;
  /** Killed on purpose (stall, stuck, rejoin): the reason to report. */
  killedFor?: string;
  stderrTail: string[];
  stderrLogged: number;
  /** The last stderr lines (redacted), to tell an outage from a refusal (refusal.ts). */
  seen: string[];
}

export class CopyOutput {
  private readonly logger = log('FFMPEG');
  readonly id: string;
  private readonly args: string[];
  private readonly tag: string;
  private run?: Run;
  private health: OutputHealth = 'starting';
  private since = Date.now() / 1000;
  private bytesDone = 0;
  private restarts = 0;
  private lastError: string | null = null;
  private readonly failures: FailureCount;
  private readonly refusals: Refusals;
  private stopping?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private probeTimer?: NodeJS.Timeout;
  private checkTimer?: NodeJS.Timeout;

  constructor(
    readonly target: OutputTarget,
    private readonly o: CopyOutputOptions,
  ) {
    this.id = target.kind === 'rtmp' ? target.dest.id : 'hls';
    this.args = target.kind === 'rtmp' ? buildDestinationArgs(target.dest.url) : buildHlsArgs(target.dir);
    this.failures = new FailureCount(o.retry);
    this.refusals = new Refusals(o.retry?.refused);
    const where = target.kind === 'rtmp' ? redactUrl(target.dest.url) : 'HLS';
    this.tag = `stream ${redactKey(o.streamKey)} → ${where}`;
  }

  start(): void {
    this.checkTimer = setInterval(() => this.check(), CHECK_MS);
    this.checkTimer.unref();
    this.spawnRun();
  }

  /** Whole TS packets from the encoder. Never blocks: a stuck output is restarted, not waited for. */
  write(packets: Buffer): void {
    const run = this.run;
    if (!run || run.ended || this.stopping || !run.stdin.writable) return;
    if (!run.joined) {
      // Not started from a keyframe yet: the GOP cache holds these packets already.
      const snap = this.o.snapshot();
      if (!snap.length) return;
      run.joined = true;
      run.stdin.write(snap);
      return;
    }
    if (run.stdin.writableLength > MAX_BUFFERED) return this.kill(run, `not keeping up: ${MAX_BUFFERED} bytes waiting`);
    run.stdin.write(packets);
  }

  /** The encoder restarted: its stream starts afresh, so this output starts a new run at its first keyframe. */
  rejoin(): void {
    const run = this.run;
    if (!run || run.ended || this.stopping) return;
    run.killedFor = 'encoder restarted';
    run.child.kill('SIGKILL');
  }

  status(): OutputStatus {
    const dest = this.target.kind === 'rtmp' ? this.target.dest : { url: 'hls://local', name: 'HLS' };
    return {
      id: this.id,
      name: dest.name ?? '',
      url: redactUrl(dest.url),
      health: this.health,
      since: this.since,
      bytes: this.bytesDone + (this.run && !this.run.ended ? this.run.totalSize : 0),
      restarts: this.restarts,
      lastError: this.lastError,
    };
  }

  /** Ends stdin (FFmpeg closes the FLV/playlist cleanly); SIGKILL after the bound. */
  stop(timeoutMs = 2000): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.retryTimer);
      clearInterval(this.probeTimer);
      clearInterval(this.checkTimer);
      const run = this.run;
      if (run && !run.ended) {
        const exited = new Promise<void>((r) => run.child.once('close', () => r()));
        const kill = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
        run.stdin.end();
        await exited;
        clearTimeout(kill);
      }
      if (this.target.kind === 'hls') fs.rmSync(this.target.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  private spawnRun(): void {
    if (this.target.kind === 'hls') fs.mkdirSync(this.target.dir, { recursive: true });
    const child = spawn(this.o.ffmpegPath, this.args, { stdio: ['pipe', 'ignore', 'pipe', 'pipe'], windowsHide: true });
    const now = Date.now();
    const run: Run = { child, stdin: child.stdin!, startedAt: now, lastProgressAt: now, lastFrame: 0, totalSize: 0, joined: false, ended: false, stderrTail: [], stderrLogged: 0, seen: [] };
    this.run = run;
    run.stdin.on('error', () => {}); // EPIPE when it dies: the exit handler reports it
    const progress = new ProgressParser((b) => {
      if (run.ended) return;
      if (b.totalSize !== undefined) run.totalSize = b.totalSize;
      if (b.frame <= run.lastFrame) return;
      run.lastFrame = b.frame;
      run.lastProgressAt = Date.now();
      if (run.liveAt === undefined && !this.stopping) {
        run.liveAt = run.lastProgressAt;
        this.logger.info(`${this.tag}: live (pid ${child.pid}, ${run.liveAt - run.startedAt} ms after start)`);
        this.setHealth('live');
      }
    });
    const progressStream = child.stdio[PROGRESS_FD] as Readable;
    progressStream.setEncoding('utf8');
    progressStream.on('data', (c: string) => progress.push(c));
    let partial = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const l of lines) this.onStderr(run, l);
    });
    child.on('error', (err) => this.onEnded(run, `could not run FFmpeg (${this.o.ffmpegPath}): ${err.message}`, true));
    child.on('close', (code, signal) => this.onEnded(run, signal ? `FFmpeg killed by ${signal}` : `FFmpeg exited with code ${code}`));
    // Join at once when a keyframe is cached; otherwise write() joins at the first one.
    const snap = this.o.snapshot();
    if (snap.length) {
      run.joined = true;
      run.stdin.write(snap);
    }
  }

  private hide(text: string): string {
    const t = this.target.kind === 'rtmp' ? redactSecretsOf(text, this.target.dest.url) : text;
    return redact(t, this.o.streamKey);
  }

  private onStderr(run: Run, raw: string): void {
    const line = this.hide(raw.trim());
    if (!line) return;
    if (run.seen.push(line) > 12) run.seen.shift();
    run.stderrTail.push(line);
    if (run.stderrTail.length > STDERR_TAIL_LINES) run.stderrTail.shift();
    if (run.stderrLogged++ < STDERR_LOG_LINES_PER_RUN) this.logger.warn(`${this.tag}: ffmpeg: ${line}`);
  }

  /** Twice a second: a run that makes no progress while fed is killed (the retry reconnects it). */
  private check(): void {
    const run = this.run;
    if (!run || run.ended || this.stopping || !run.joined) return;
    if (Date.now() - run.lastProgressAt > this.o.stallSeconds * 1000) this.kill(run, `stalled: no progress for ${this.o.stallSeconds} s`);
  }

  private kill(run: Run, why: string): void {
    if (run.killedFor) return;
    run.killedFor = why;
    this.logger.warn(`${this.tag}: ${why}, killing FFmpeg (pid ${run.child.pid})`);
    run.child.kill('SIGKILL');
  }

  private onEnded(run: Run, reason: string, unfixable = false): void {
    if (run.ended) return;
    run.ended = true;
    this.bytesDone += run.totalSize;
    if (this.stopping || this.run !== run) return;
    const now = Date.now();
    if (run.killedFor === 'encoder restarted') {
      this.restarts += 1;
      this.spawnRun();
      return;
    }
    this.lastError = this.hide([run.killedFor ?? reason, ...run.stderrTail].join('\n'));
    // A missing FFmpeg binary, an invalid URL, a server that refuses every publish: say why, stop.
    const giveUp = unfixable ? reason : run.killedFor ? null : this.refusals.record(endKind(run.seen, now - run.startedAt), now);
    if (giveUp) {
      if (!unfixable) this.lastError = `${giveUp}\n${this.lastError}`;
      clearInterval(this.checkTimer);
      this.logger.error(`${this.tag}: ${giveUp}`);
      this.setHealth('failed');
      return;
    }
    const failures = this.failures.failed(run.liveAt === undefined ? null : now - run.liveAt);
    const delay = this.failures.delayMs();
    this.logger.warn(`${this.tag}: ${run.killedFor ?? reason} after ${((now - run.startedAt) / 1000).toFixed(1)} s; reconnecting in ${delay} ms (failure ${failures})`);
    this.setHealth('reconnecting');
    const retry = () => {
      clearTimeout(this.retryTimer);
      clearInterval(this.probeTimer);
      if (this.stopping) return;
      this.restarts += 1;
      this.spawnRun();
    };
    this.retryTimer = setTimeout(retry, delay);
    this.watchForReturn(retry, /Connection refused|timed out/i.test(run.seen.join('\n')));
  }

  /**
   * While waiting out the backoff, probe the destination's TCP port once a second: when a server
   * that was seen down accepts connections again, retry at once (a long backoff must not keep a
   * destination off air once it is back).
   */
  private watchForReturn(retry: () => void, down: boolean): void {
    if (this.target.kind !== 'rtmp') return;
    const addr = hostPort(this.target.dest.url);
    if (!addr) return;
    let seenDown = down; // this run could not connect: back at the first probe that can
    let probing = false;
    this.probeTimer = setInterval(() => {
      if (probing) return;
      probing = true;
      void tcpReachable(addr.host, addr.port).then((up) => {
        probing = false;
        if (!up) seenDown = true;
        else if (seenDown) retry();
      });
    }, PROBE_MS);
    this.probeTimer.unref();
  }

  private setHealth(h: OutputHealth): void {
    if (h === this.health) return;
    this.health = h;
    this.since = Date.now() / 1000;
  }
}
