// The start job's handle on a stream's render thread: starts it, passes its previews on, and
// keeps its counters and its broadcast's health.
import type { Worker } from 'node:worker_threads';
import { log, redactKey } from '../logger.js';
import type { PipelineStats, RenderRates } from './pipeline.js';
import type { Destination } from './ffmpeg/copy-output.js';
import type { BroadcastStatus, FromThread, RenderThreadInit, ThreadCounters, ToThread } from './thread-protocol.js';
import { startRenderThread } from './thread-pool.js';

const logger = log('RENDER');

/** Who hears each frame's render → FFmpeg latency, in seconds (the metrics; render knows nothing of them). */
let latencyObserver: ((seconds: number) => void) | null = null;
export function observeEncodeLatency(fn: ((seconds: number) => void) | null): void {
  latencyObserver = fn;
}

export interface ThreadedPipelineOptions extends RenderThreadInit {
  onPreview: (jpeg: Buffer, seq: number, ts: number) => void;
  /** The stream cannot go on: the broadcast gave up, or the thread failed. */
  onFailed: (message: string) => void;
}

export class ThreadedPipeline {
  private worker: Worker | null = null;
  private counters: ThreadCounters = { frames: 0, dropped: 0, previewFrames: 0, previewSkipped: 0 };
  private status: BroadcastStatus | null = null;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private ready = false;
  /** Scene data not yet posted: posted once the thread is ready, and coalesced within a tick. */
  private pendingData: { data: unknown } | null = null;
  private posting = false;
  /** The preview rate last set (null: the configured one), for the state hash. */
  previewFps: number | null = null;

  constructor(private readonly o: ThreadedPipelineOptions) {}

  /** Resolves once the thread renders (its scene, data source and FFmpeg are started). */
  start(): Promise<void> {
    const { onPreview, onFailed, ...init } = this.o;
    // Data handed in before the start is the scene's first: no frame goes out without it.
    const first = this.pendingData;
    this.pendingData = null;
    // A warm thread from the pool when there is one (thread-pool.ts), else a new one.
    const worker = startRenderThread(first ? { ...init, sceneData: first.data } : init, `render ${init.streamKey}`);
    this.worker = worker;
    let settle: { resolve(): void; reject(e: Error): void } | null = null;
    const started = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const fail = (message: string) => {
      if (settle) {
        settle.reject(new Error(message));
        settle = null;
      } else if (!this.stopping) onFailed(message);
    };
    worker.on('message', (m: FromThread) => {
      switch (m.type) {
        case 'ready':
          this.ready = true;
          this.flushSceneData();
          settle?.resolve();
          settle = null;
          break;
        case 'preview':
          if (!this.stopping) onPreview(Buffer.from(m.jpeg), m.seq, m.ts);
          break;
        case 'stats':
          this.counters = m.counters;
          this.status = m.broadcast;
          if (latencyObserver) for (const v of m.latencies ?? []) latencyObserver(v);
          break;
        case 'failed':
          fail(m.message);
          break;
      }
    });
    worker.on('error', (err) => {
      logger.error(`render thread of ${redactKey(init.streamKey)} crashed: ${err.message}`);
      fail(err.message);
    });
    worker.on('exit', (code) => {
      if (code !== 0) fail(`render thread exited with code ${code}`);
    });
    return started;
  }

  /**
   * Hands the scene its latest data (plain data: it is copied to the thread). Changes within
   * one tick are posted once, the latest; before the thread is ready, the latest is kept.
   */
  setSceneData(data: unknown): void {
    this.pendingData = { data };
    if (!this.ready || this.posting) return;
    this.posting = true;
    setImmediate(() => {
      this.posting = false;
      this.flushSceneData();
    });
  }

  private flushSceneData(): void {
    const p = this.pendingData;
    if (!p || !this.worker || this.stopping) return;
    this.pendingData = null;
    const msg: ToThread = { type: 'scene-data', data: p.data };
    this.worker.postMessage(msg);
  }

  /** Makes the broadcast's destinations these (by id); the others go on untouched. */
  setDestinations(list: Destination[]): void {
    if (!this.worker || this.stopping) return;
    const msg: ToThread = { type: 'destinations', list };
    this.worker.postMessage(msg);
  }

  /** Shed load (issue 13): the rates the thread renders and previews at (RenderPipeline.setRates). */
  setRates(rates: RenderRates): void {
    this.previewFps = rates.previewFps;
    if (!this.worker || this.stopping) return;
    const msg: ToThread = { type: 'rates', ...rates };
    this.worker.postMessage(msg);
  }

  /** Stop rendering and FFmpeg (flushed, killed after its bound); resolves when the thread ended. */
  stop(): Promise<void> {
    if (!this.worker) return Promise.resolve();
    if (this.stopped) return this.stopped;
    this.stopping = true;
    const worker = this.worker;
    this.stopped = new Promise<void>((resolve) => {
      if (worker.threadId === -1) return resolve();
      worker.once('exit', () => resolve());
      const msg: ToThread = { type: 'stop' };
      worker.postMessage(msg);
      // FFmpeg's own stop bound is 5 s; past 8 s the thread is ended whatever it does.
      setTimeout(() => void worker.terminate(), 8000).unref();
    });
    return this.stopped;
  }

  stats(): PipelineStats {
    return this.counters;
  }

  /** The broadcast's last reported status; null when the stream has no broadcast. */
  broadcast(): BroadcastStatus | null {
    return this.status;
  }
}
