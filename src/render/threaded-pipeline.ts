// The start job's handle on a stream on a render thread (thread-pool.ts): starts it, passes its
// previews on, and keeps its counters and its broadcast's health.
import { log, redactKey } from '../logger.js';
import type { PipelineStats, RenderRates } from './pipeline.js';
import type { Destination } from './ffmpeg/copy-output.js';
import type { BroadcastStatus, FromThread, RenderThreadInit, ThreadCounters } from './thread-protocol.js';
import { startRenderStream, type StreamSlot } from './thread-pool.js';

const logger = log('RENDER');

/** Who hears each frame's render → FFmpeg latency, in seconds (the metrics; render knows nothing of them). */
let latencyObserver: ((seconds: number) => void) | null = null;
export function observeEncodeLatency(fn: ((seconds: number) => void) | null): void {
  latencyObserver = fn;
}

export interface ThreadedPipelineOptions extends RenderThreadInit {
  onPreview: (jpeg: Buffer, seq: number, ts: number) => void;
  /** The stream cannot go on: the broadcast gave up, or (without onLost) its thread is gone. */
  onFailed: (message: string) => void;
  /**
   * The render thread crashed or ended under the stream (and any others on it): not the stream's
   * own failure, so its job leaves it to be started again rather than failing it.
   */
  onLost?: (reason: string) => void;
}

export class ThreadedPipeline {
  private slot: StreamSlot | null = null;
  private counters: ThreadCounters = { frames: 0, dropped: 0, previewFrames: 0, previewSkipped: 0 };
  private status: BroadcastStatus | null = null;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  /** Resolves once the stream is off its thread (stopped, failed to start, or its thread gone). */
  private whenStopped: Promise<void> | null = null;
  private ready = false;
  /** Scene data not yet posted: posted once the thread is ready, and coalesced within a tick. */
  private pendingData: { data: unknown } | null = null;
  private posting = false;
  /** The preview rate last set (null: the configured one), for the state hash. */
  previewFps: number | null = null;

  constructor(private readonly o: ThreadedPipelineOptions) {}

  /** Resolves once the thread renders (its scene, data source and FFmpeg are started). */
  start(): Promise<void> {
    const { onPreview, onFailed, onLost, ...init } = this.o;
    // Data handed in before the start is the scene's first: no frame goes out without it.
    const first = this.pendingData;
    this.pendingData = null;
    let settle: { resolve(): void; reject(e: Error): void } | null = null;
    const started = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const fail = (message: string) => {
      if (settle) {
        settle.reject(new Error(message));
        settle = null;
      } else if (!this.stopping) onFailed(message);
    };
    let onStopped: (() => void) | null = null;
    this.whenStopped = new Promise<void>((resolve) => (onStopped = resolve));
    const leave = () => {
      this.slot?.leave();
      onStopped?.();
    };
    // A thread running already when there is room on one, else a new one (thread-pool.ts).
    this.slot = startRenderStream(first ? { ...init, sceneData: first.data } : init, {
      message: (m: FromThread) => {
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
            // Its broadcast gave up, or it could not start at all (ended: it is off its thread already).
            fail(m.message);
            if (m.ended) leave();
            break;
          case 'stopped':
            leave();
            break;
        }
      },
      gone: (reason) => {
        logger.error(`render thread of ${redactKey(init.streamKey)} ended: ${reason}`);
        if (settle || !onLost) fail(reason);
        else if (!this.stopping) onLost(reason);
        leave();
      },
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
    if (!p || !this.slot || this.stopping) return;
    this.pendingData = null;
    this.slot.post({ type: 'scene-data', data: p.data });
  }

  /** Makes the broadcast's destinations these (by id); the others go on untouched. */
  setDestinations(list: Destination[]): void {
    if (!this.slot || this.stopping) return;
    this.slot.post({ type: 'destinations', list });
  }

  /** Shed load (issue 13): the rates the thread renders and previews at (RenderPipeline.setRates). */
  setRates(rates: RenderRates): void {
    this.previewFps = rates.previewFps;
    if (!this.slot || this.stopping) return;
    this.slot.post({ type: 'rates', ...rates });
  }

  /** Stop rendering and FFmpeg (flushed, killed after its bound); resolves when the stream is off its thread. */
  stop(): Promise<void> {
    const slot = this.slot;
    if (!slot || !this.whenStopped) return Promise.resolve();
    if (this.stopped) return this.stopped;
    this.stopping = true;
    slot.post({ type: 'stop' });
    // FFmpeg's own stop bound is 5 s; past 8 s the thread does not answer, and is ended with every stream on it.
    const timer = setTimeout(() => slot.terminate(), 8000);
    timer.unref();
    this.stopped = this.whenStopped.then(() => clearTimeout(timer));
    return this.stopped;
  }

  /** The render thread the stream runs on (streams sharing a thread have the same); null before start. */
  get threadId(): number | null {
    return this.slot?.threadId ?? null;
  }

  stats(): PipelineStats {
    return this.counters;
  }

  /** The broadcast's last reported status; null when the stream has no broadcast. */
  broadcast(): BroadcastStatus | null {
    return this.status;
  }
}
